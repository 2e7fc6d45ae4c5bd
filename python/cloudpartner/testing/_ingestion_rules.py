"""The service's rules for a posted VM plan technical configuration, with the texts it answered.

``check`` compares a technical configuration a ``configure`` posts with the plan's draft and
what is published of it, and returns the job errors the service answers (the job then fails and
changes nothing). Where a text is quoted from a public client's commit or issue, the comment
names it (``../shared/vm-image-release.md`` collects them); where no source shows the text, the
comment says it is a guess.
"""

from __future__ import annotations

import re
from typing import Any

REASONS = ("criticalSecurityIssue", "endOfSupport", "other")
IMAGE_TYPES = ("x64Gen1", "x64Gen2", "arm64Gen2")
VERSION_NUMBER = re.compile(r"\d+\.\d+\.\d+")


def detail(code: str, message: str) -> dict[str, Any]:
    """One item of an error's ``details``: it carries ``details`` of its own, as the service's do.

    cloudpub acf8491 (June 2026) gave its fixture's detail ``"details": []`` and walks every
    level, refusing an item without that list: the service sends it.
    """
    return {"code": code, "message": message, "details": []}


def failure(resource: str, index: int) -> dict[str, Any]:
    """Name the refused resource as the service does (microsoft-partner-center-github-action issue 10)."""
    return detail("invalidResource", f"Failure for resource: {resource}-{index}, schema: {resource}")


def _error(code: str, message: str, resource_id: str | None, resource: str, index: int) -> dict[str, Any]:
    item: dict[str, Any] = {} if resource_id is None else {"resourceId": resource_id}
    item.update({"code": code, "message": message, "details": [failure(resource, index)]})
    return item


def _type_name(image_type: object) -> str:
    """Write an image type as the service's messages do: ``x64Gen1`` -> ``X64Gen1``."""
    text = str(image_type)
    return text[:1].upper() + text[1:]


def _versions(config: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Return a configuration's image versions by number (those that are objects with one)."""
    found = (config or {}).get("vmImageVersions")
    if not isinstance(found, list):
        return {}
    return {v["versionNumber"]: v for v in found if isinstance(v, dict) and isinstance(v.get("versionNumber"), str)}


def _image_types(version: dict[str, Any]) -> list[str]:
    images = version.get("vmImages")
    if not isinstance(images, list):
        return []
    return [str(image.get("imageType")) for image in images if isinstance(image, dict)]


def _deprecated(version: dict[str, Any]) -> bool:
    """Tell whether a version is deprecated or scheduled to be."""
    return version.get("lifecycleState") == "deprecated" or isinstance(version.get("deprecationSchedule"), dict)


def _schedule(version: dict[str, Any]) -> tuple[object, object, object]:
    schedule = version.get("deprecationSchedule")
    if not isinstance(schedule, dict):
        return (None, None, None)
    return (schedule.get("date"), schedule.get("reason"), schedule.get("alternative"))


def _schema_problems(config: dict[str, Any]) -> list[str]:
    """List the schema validator's findings, each in its words (cloudpub 11c95d3)."""
    problems = []
    for index, version in enumerate(config.get("vmImageVersions") or []):
        schedule = version.get("deprecationSchedule") if isinstance(version, dict) else None
        if not isinstance(schedule, dict):
            continue
        if "reason" not in schedule:  # a guess at the validator's words for a missing required property
            problems.append(
                f'#/vmImageVersions/{index}/deprecationSchedule: Required properties ["reason"] are not present'
            )
            continue
        where = f"#/vmImageVersions/{index}/deprecationSchedule/reason"
        reason = schedule.get("reason")
        if not isinstance(reason, str):
            kind = "null" if reason is None else type(reason).__name__
            problems.append(f'{where}: Value is "{kind}" but should be "string"')
        if reason not in REASONS:
            problems.append(f"{where}: Expected value to match one of the values specified by the enum")
    properties = config.get("vmProperties")
    for flag, value in properties.items() if isinstance(properties, dict) else ():
        if value is None:  # cloudpub 21ed941: a null flag "couldn't be parsed by the API"; leave it out
            problems.append(f'#/vmProperties/{flag}: Value is "null" but should be "boolean"')
    return problems


def check(
    config: dict[str, Any],
    *,
    schema_uri: str,
    resource: str,
    index: int,
    draft: dict[str, Any] | None,
    published: list[dict[str, Any]],
    live: dict[str, Any] | None,
) -> list[dict[str, Any]]:
    """Return the errors of posting ``config`` (resource ``index`` of the configure, of type ``resource``).

    ``draft`` is the plan's configuration now, ``published`` its configurations in preview and
    live, ``live`` the one in live (None: the plan was never live).
    """
    durable = config.get("id") if isinstance(config.get("id"), str) else None
    problems = _schema_problems(config)
    if problems:  # cloudpub 11c95d3 quotes the message; its code is a guess
        message = f"Schema validation failed for schema {schema_uri}: " + "".join(p + ";" for p in problems)
        return [_error("badRequest", message, durable, resource, index)]
    errors = []
    posted = _versions(config)
    for number, version in _versions(draft).items():
        kept = posted.get(number)
        if _deprecated(version) and (kept is None or not _deprecated(kept)):  # cloudpub 6c408c9
            message = f"Image '{number}' cannot be restored because it was deprecated before it was published to live"
            errors.append(_error("badRequest", message, durable, resource, index))
    for old in published:
        for number, version in _versions(old).items():
            kept = posted.get(number)
            scheduled = isinstance(version.get("deprecationSchedule"), dict)
            if kept is not None and scheduled and _schedule(kept) != _schedule(version):  # cloudpub 849afd5
                kind = _type_name((_image_types(version) or ["x64Gen2"])[0])
                message = f"The deprecation schedule for image '{number}' of type '{kind}' is already published"
                errors.append(
                    _error("badRequest", message + " and can not be changed in draft.", durable, resource, index)
                )
            if _deprecated(version):
                continue  # leaving out a deprecated version is "cannot be restored", above
            kept_types = _image_types(kept) if kept is not None else []
            for image_type in _image_types(version):
                if image_type not in kept_types:  # microsoft-partner-center-github-action issue 10
                    message = (
                        f"Cannot delete image '{number}' of type '{_type_name(image_type)}' as it is already published."
                    )
                    errors.append(_error("badRequest", message, durable, resource, index))
    errors += _sku_errors(config, live, durable, resource, index)
    return _unique(errors)


def _sku_errors(
    config: dict[str, Any], live: dict[str, Any] | None, durable: str | None, resource: str, index: int
) -> list[dict[str, Any]]:
    skus = [sku for sku in config.get("skus") or [] if isinstance(sku, dict)]
    errors = []
    for sku in skus:
        image_type = sku.get("imageType")
        if sku.get("securityType") is not None and image_type != "x64Gen2":
            # a guess at the text: the schema allows securityType only on x64Gen2 (the facts file;
            # cloudpub's _build_skus leaves it out elsewhere)
            message = "The property 'SecurityType' is only supported for image type 'X64Gen2'"
            message += f", not '{_type_name(image_type)}'."
            errors.append(_error("badRequest", message, durable, resource, index))
    was = {sku.get("imageType"): sku.get("skuId") for sku in (live or {}).get("skus") or [] if isinstance(sku, dict)}
    now = {sku.get("imageType"): sku.get("skuId") for sku in skus}
    if any(now.get(image_type) != sku_id for image_type, sku_id in was.items()):  # cloudpub 0eb8e95
        errors.append(
            _error("badRequest", "The property 'PlanId' is locked by a previous submission", durable, resource, index)
        )
    return errors


def _unique(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Drop repeats (a version published to preview and live is one refusal)."""
    seen: list[dict[str, Any]] = []
    for error in errors:
        if error not in seen:
            seen.append(error)
    return seen
