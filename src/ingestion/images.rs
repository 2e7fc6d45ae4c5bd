//! The calls on a plan's VM image versions: list the plans, read a technical configuration, add
//! or update a version, deprecate one. Each reads the resource tree, edits the configuration in
//! the core (`techconfig`) and sends it whole with `configure`.

use serde_json::Value;

use super::client::Client;
use super::ids::ProductRef;
use super::job::Job;
use super::request::{Configure, Target};
use super::techconfig::{self, NewImage, Plan, TechnicalConfiguration};
use crate::error::{Error, Result};
use crate::http::Log;
use crate::http::retry::Deadline;
use crate::validate::Token;

/// A deprecation: when, why, and what to use instead.
#[derive(Debug, Clone, PartialEq)]
pub struct Deprecation {
    pub date: String,
    pub reason: String,
    pub alternative: Option<Value>,
}

impl Client {
    /// The product's resource tree for `target`; `None` when nothing is published there (the
    /// service's 404 for a preview or live tree of a product never published).
    pub(super) async fn tree(
        &self,
        guid: &str,
        target: Target,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Option<Value>> {
        match self.document(&self.requests().resource_tree(guid, target), token, log, call).await {
            Ok(document) => Ok(Some(document.value)),
            Err(Error::Api(failure)) if failure.status == 404 && target != Target::Draft => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The plan `plan` names in `tree` and its technical configuration (a plan without one is
    /// a 404 naming it).
    pub(super) fn plan_configuration(
        tree: &Value,
        plan: &str,
        guid: &str,
    ) -> Result<(Plan, TechnicalConfiguration)> {
        let found = techconfig::find_plan(&techconfig::plans(tree), plan, &format!("product/{guid}"))?;
        let config = techconfig::find(tree, &found.id).ok_or_else(|| {
            techconfig::not_found(format!("the plan {} has no VM technical configuration", found.id))
        })?;
        Ok((found, config))
    }

    /// The plans of a product (its draft), in the order the service sent them.
    pub async fn list_plans(&self, product: &ProductRef, token: &Token, log: &dyn Log) -> Result<Vec<Plan>> {
        let call = self.deadline(true);
        let guid = self.product_guid(product, token, log, &call).await?;
        let tree = self.tree(&guid, Target::Draft, token, log, &call).await?.unwrap_or(Value::Null);
        Ok(techconfig::plans(&tree))
    }

    /// A plan's technical configuration in `target`'s tree. Nothing published there is a 404.
    pub async fn technical_configuration(
        &self,
        product: &ProductRef,
        plan: &str,
        target: Target,
        token: &Token,
        log: &dyn Log,
    ) -> Result<TechnicalConfiguration> {
        let call = self.deadline(true);
        let guid = self.product_guid(product, token, log, &call).await?;
        let Some(tree) = self.tree(&guid, target, token, log, &call).await? else {
            return Err(techconfig::not_found(format!(
                "product/{guid} has nothing published to {}",
                target.as_str()
            )));
        };
        Ok(Self::plan_configuration(&tree, plan, &guid)?.1)
    }

    /// Add version `number` with `image` to the plan's draft (or update the version of that
    /// number): the configure job, or `None` when the draft already holds that image.
    pub async fn add_image_version(
        &self,
        product: &ProductRef,
        plan: &str,
        number: &str,
        image: &NewImage,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Option<Job>> {
        let call = self.deadline(true);
        let guid = self.product_guid(product, token, log, &call).await?;
        let tree = self.tree(&guid, Target::Draft, token, log, &call).await?.unwrap_or(Value::Null);
        let (_, config) = Self::plan_configuration(&tree, plan, &guid)?;
        let Some(edited) = config.with_image(number, image)? else {
            return Ok(None);
        };
        self.send_configuration(edited, token, log, &call).await.map(Some)
    }

    /// Deprecate version `number` of the plan's draft: the configure job.
    pub async fn deprecate_image_version(
        &self,
        product: &ProductRef,
        plan: &str,
        number: &str,
        deprecation: &Deprecation,
        token: &Token,
        log: &dyn Log,
    ) -> Result<Job> {
        let call = self.deadline(true);
        let guid = self.product_guid(product, token, log, &call).await?;
        let tree = self.tree(&guid, Target::Draft, token, log, &call).await?.unwrap_or(Value::Null);
        let (_, config) = Self::plan_configuration(&tree, plan, &guid)?;
        let edited = config.with_deprecation(
            number,
            &deprecation.date,
            &deprecation.reason,
            deprecation.alternative.as_ref(),
        )?;
        self.send_configuration(edited, token, log, &call).await
    }

    /// `POST configure` with one edited technical configuration: the job it started.
    pub(super) async fn send_configuration(
        &self,
        resource: Value,
        token: &Token,
        log: &dyn Log,
        call: &Deadline,
    ) -> Result<Job> {
        let document = Configure::new(&Value::Array(vec![resource]), &self.requests())?;
        Ok(self.job_answer(&self.requests().configure(&document), None, token, log, call).await?.0)
    }
}
