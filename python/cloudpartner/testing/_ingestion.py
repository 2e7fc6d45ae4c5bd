"""The fake Product Ingestion API (Partner Center, under ``/rp/product-ingestion``): its routes.

No sockets here: ``Service.handle`` takes a ``RecordedRequest`` and returns a ``Response``; the
products, submissions and jobs are in ``_ingestion_model.py``. Every request is checked in this
order, and the first failing check decides the answer:

1. a failure queued with ``fail_next`` (``_base.py``);
2. ``Authorization: Bearer <token>`` must name an accepted token, else 401 in Microsoft
   Graph's shape (``InvalidAuthenticationToken``);
3. the route must exist (else 404 ``notFound``) and accept the method (else 405);
4. ``$version`` must be one in use (none: the latest); a deprecated one is refused 400 with the
   body the service sent, an unknown one 400 ``badRequest``;
5. the route's own checks: a configure body must be ``{"$schema", "resources": [objects with a
   $schema]}``, else 400 ``badRequest`` with an inner ``schemaValidationError``; the product or
   job must exist (else 404 ``notFound``). What a configure asks for that cannot be done (an
   unknown product, a go-live without the preview submission's id, a publish under way on the
   product, a technical configuration the service's rules refuse: ``_ingestion_rules.py``) is
   answered 202 all the same, with a job that fails with the reasons in ``errors``.

Errors use the envelope ``{"error": {"code", "message", "details"}}``. Lists answer
``{"value": [...]}``, at most ``page_size`` items (or ``$maxpagesize``) a page, with an absolute
``@nextLink`` on this portal while there are more (its ``$skipToken`` is the offset).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urlencode

from ._base import Failure, HttpError, Tokens, bearer, timestamp, whole
from ._http import RecordedRequest, Response
from ._ingestion_model import (
    DEPRECATED,
    LATEST,
    TARGETS,
    VERSIONS,
    Job,
    Product,
    Store,
    kind_of,
    schema,
    with_schema,
)

PREFIX = "/rp/product-ingestion"
_GUID = r"(?P<guid>[^/]+)"
_JOB = r"/configure/(?P<job>[^/]+)"
_ROUTES = (  # (name, allowed methods, path pattern after the prefix); a trailing slash is accepted
    ("products", ("GET",), re.compile(r"/product/?")),
    ("product", ("GET",), re.compile(rf"/product/{_GUID}/?")),
    ("plans", ("GET",), re.compile(r"/plan/?")),
    ("submissions", ("GET",), re.compile(rf"/submission/{_GUID}/?")),
    ("resource-tree", ("GET",), re.compile(rf"/resource-tree/product/{_GUID}/?")),
    (  # a plan's technical configuration by its durable id (the facts file's step 3)
        "technical-configuration",
        ("GET",),
        re.compile(rf"/(?P<kind>(core-)?virtual-machine-plan-technical-configuration)/{_GUID}/(?P<plan>[^/]+)/?"),
    ),
    ("configure", ("POST",), re.compile(r"/configure/?")),
    ("job-status", ("GET",), re.compile(_JOB + r"/status/?")),
    ("job-cancel", ("POST",), re.compile(_JOB + r"/cancel/?")),
    ("job", ("GET",), re.compile(_JOB + r"/?")),
)
ROUTES = tuple(name for name, _, _ in _ROUTES)
_IN_USE = tuple(version for version in VERSIONS if version not in DEPRECATED)


def error(status: int, code: str, message: str, details: list[dict[str, Any]] | None = None) -> HttpError:
    """Build the ingestion API's error envelope: ``{"error": {"code", "message", "details"}}``."""
    return HttpError(Response(status, {"error": {"code": code, "message": message, "details": details or []}}))


def _camel(status: int) -> str:
    """Name a status as the service's codes are written, e.g. 429 -> "tooManyRequests"."""
    try:
        phrase = HTTPStatus(status).phrase.replace("-", " ").split()
    except ValueError:
        return "error"
    return phrase[0].lower() + "".join(word.capitalize() for word in phrase[1:])


class Service:
    """The ingestion API's answers over a ``Store``; not thread-safe by itself (FakePortal locks)."""

    name = "ingestion"
    routes = ROUTES

    def __init__(
        self, *, store: Store, tokens: Tokens, other_tokens: Tokens, page_size: int, base_url: Callable[[], str]
    ) -> None:
        self.store = store
        self._tokens = tokens
        self._other_tokens = other_tokens  # the CPP API's: named in the 401 ("invalid audience")
        self._page_size = whole("page_size", page_size, 1)
        self._base_url = base_url

    @property
    def url(self) -> str:
        return self._base_url() + PREFIX

    # -- the model protocol (see _base.Model) --------------------------------------------------

    def owns(self, path: str) -> bool:
        return path == PREFIX or path.startswith(PREFIX + "/")

    def route_name(self, request: RecordedRequest) -> str | None:
        path = _path(request)
        return next((name for name, _, pattern in _ROUTES if pattern.fullmatch(path)), None)

    def injected(self, failure: Failure) -> Response:
        headers = {} if failure.retry_after is None else {"Retry-After": failure.retry_after}
        body = {
            "error": {
                "code": _camel(failure.status),
                "message": "Injected failure (FakePortal.fail_next).",
                "details": [],
            }
        }
        return Response(failure.status, body, headers)

    def handle(self, request: RecordedRequest) -> Response:
        try:
            return self._route(request)
        except HttpError as failure:
            return failure.response
        except Exception as exc:  # a bug of ours: answer as a service would, not with a traceback
            return Response(500, {"error": {"code": "internalServerError", "message": repr(exc), "details": []}})

    # -- checks --------------------------------------------------------------------------------

    def _route(self, request: RecordedRequest) -> Response:  # noqa: PLR0911 - one return per route
        token = self._authorize(request)
        name, params = _match_route(request)
        version = _version(request)
        now = time.time()
        self.store.settle(now)
        visible = self.visible(token)
        if name == "configure":
            return self._configure(request, visible, version, now)
        if name in ("job-status", "job-cancel", "job"):
            job = self.store.jobs.get(params["job"])
            if job is None:
                raise error(404, "notFound", f"The job '{params['job']}' was not found.")
            if name == "job-status":
                return Response(200, self.job_json(job, now, version))
            if name == "job-cancel":
                return self._cancel(job, now, version)
            return self._job_resources(job, now, version)
        if name == "products":
            return self._products(request, visible, version)
        if name == "plans":
            product = self.store.find(_arg(request, "product", ""), visible)
            if product is None:
                raise error(404, "notFound", f"The product '{_arg(request, 'product', '')}' was not found.")
            wanted = _arg(request, "externalId")
            plans = [
                with_schema(kind, body, version)
                for kind, body in product.resources.values()
                if kind == "plan" and wanted in (None, body.get("identity", {}).get("externalId"))
            ]
            return self._page(request, plans)
        product = self._product(params["guid"], visible)
        if name == "product":
            kind, body = product.resources[product.id]
            return Response(200, with_schema(kind, body, version))
        if name == "submissions":
            entries = product.entries(now, version)
            wanted = _arg(request, "targetType")
            return self._page(request, [e for e in entries if wanted in (None, e["target"]["targetType"])])
        tree = self._tree(request, product, now)
        if name == "technical-configuration":
            durable = f"{params['kind']}/{params['guid']}/{params['plan']}"
            if durable not in tree:
                raise error(404, "notFound", f"The resource '{durable}' was not found.")
            return Response(200, with_schema(*tree[durable], version))
        return self._resource_tree(request, product, tree, now, version)

    def _authorize(self, request: RecordedRequest) -> str:
        """Check the token as Microsoft Graph does; answer 401 in its shape otherwise."""
        token = bearer(request.headers.get("authorization", ""))
        if token is not None and self._tokens.accepts(token):
            return token
        if token is None:
            message = "Access token is empty."
        elif self._other_tokens.accepts(token):
            message = "Access token validation failure. Invalid audience."
        else:
            message = "Access token validation failure."
        request_id = str(uuid.uuid4())
        inner = {
            "date": timestamp(time.time()).split(".")[0],
            "request-id": request_id,
            "client-request-id": request_id,
        }
        body = {"error": {"code": "InvalidAuthenticationToken", "message": message, "innerError": inner}}
        raise HttpError(Response(401, body, {"WWW-Authenticate": 'Bearer realm="", error="invalid_token"'}))

    def visible(self, token: str | None) -> frozenset[str]:
        """Return the guids of the products ``token`` sees (None: every product)."""
        return frozenset(
            guid
            for guid, product in self.store.products.items()
            if token is None or self._tokens.sees(token, product.publisher)
        )

    def _product(self, guid: str, visible: frozenset[str]) -> Product:
        product = self.store.products.get(guid) if guid in visible else None
        if product is None:
            raise error(404, "notFound", f"The product 'product/{guid}' was not found.")
        return product

    # -- answers -------------------------------------------------------------------------------

    def job_json(self, job: Job, now: float, version: str) -> dict[str, Any]:
        return job.to_json(now, version, f"{self.url}/configure/{job.id}")

    def _configure(self, request: RecordedRequest, visible: frozenset[str], version: str, now: float) -> Response:
        body = request.body
        problems = []
        if not isinstance(body, dict):
            problems.append("The request body must be a JSON object.")
        else:
            if kind_of(body.get("$schema")) != "configure":
                problems.append("'$schema' is required: the configure schema URI (.../schema/configure/<version>).")
            resources = body.get("resources")
            if not isinstance(resources, list) or not resources:
                problems.append("'resources' is required: a non-empty array of resources.")
            else:
                for index, resource in enumerate(resources):
                    if not isinstance(resource, dict) or kind_of(resource.get("$schema")) is None:
                        problems.append(f"resources[{index}] must be an object with a '$schema' naming its type.")
        if problems:
            details = [{"code": "schemaValidationError", "message": problem} for problem in problems]
            raise error(400, "badRequest", "Invalid configuration: schema validation failed", details)
        assert isinstance(body, dict)
        job = self.store.post(body["resources"], visible, now)
        return Response(202, self.job_json(job, now, version))

    def _cancel(self, job: Job, now: float, version: str) -> Response:
        if job.status(now) == "completed":
            raise error(400, "badRequest", "Cannot cancel job, job has already completed.")
        self.store.cancel(job, now)
        return Response(200, self.job_json(job, now, version))

    def _job_resources(self, job: Job, now: float, version: str) -> Response:
        if job.status(now) != "completed":
            # A guess: the pages say it is refused before the job completes, not how.
            raise error(
                400, "badRequest", f"The job '{job.id}' has not completed; its resources are not available yet."
            )
        resources = [with_schema(kind, body, version) for kind, body in job.changed]
        return Response(200, {"$schema": schema("configure-detail", version), "resources": resources})

    def _products(self, request: RecordedRequest, visible: frozenset[str], version: str) -> Response:
        wanted = _arg(request, "externalId")
        products = [
            with_schema(*product.resources[product.id], version)
            for guid, product in self.store.products.items()
            if guid in visible and wanted in (None, product.external_id)
        ]
        return self._page(request, products)

    def _tree(self, request: RecordedRequest, product: Product, now: float) -> dict[str, tuple[str, dict[str, Any]]]:
        """Return the product's resources in the request's ``targetType`` (draft when none is named)."""
        target = _arg(request, "targetType") or "draft"
        if target not in TARGETS:
            raise error(400, "badRequest", f"targetType must be one of {', '.join(TARGETS)}, not '{target}'.")
        tree = product.tree(target, now)
        if tree is None:
            raise error(404, "notFound", f"The product '{product.id}' has nothing published to {target}.")
        return tree

    def _resource_tree(
        self,
        request: RecordedRequest,
        product: Product,
        tree: dict[str, tuple[str, dict[str, Any]]],
        now: float,
        version: str,
    ) -> Response:
        target = _arg(request, "targetType") or "draft"
        submission = product.published(target, now)
        number = 0 if submission is None else submission.number
        reference = {
            "id": f"submission/{product.guid}/{number}",
            "product": product.id,
            "target": {"targetType": target},
            "lifecycleState": "generallyAvailable",
        }
        resources = [with_schema(kind, body, version) for kind, body in tree.values()]
        resources.append(with_schema("submission", reference, version))
        answer = {
            "$schema": schema("resource-tree", version),
            "root": product.id,
            "target": {"targetType": target},
            "resources": resources,
        }
        return Response(200, answer)

    def _page(self, request: RecordedRequest, items: list[dict[str, Any]]) -> Response:
        size = self._page_size
        try:
            offset = int(_arg(request, "$skipToken") or "0")
            asked = _arg(request, "$maxpagesize")
            if asked is not None:
                size = max(1, min(size, int(asked)))
        except ValueError:
            raise error(400, "badRequest", "$skipToken and $maxpagesize must be integers.") from None
        answer: dict[str, Any] = {"value": items[offset : offset + size]}
        if offset + size < len(items):
            query = {**request.query, "$skipToken": str(offset + size)}
            answer["@nextLink"] = self._base_url() + request.path + "?" + urlencode(query, quote_via=quote, safe="$")
        return Response(200, answer)


def _version(request: RecordedRequest) -> str:
    version = _arg(request, "$version") or LATEST
    if version in DEPRECATED:  # the body the service sent (seen by cloudpub in 2024)
        raise HttpError(
            Response(400, {"error": {"code": "badRequest", "message": f'"{version} is a deprecated schema"'}})
        )
    if version not in VERSIONS:
        raise error(
            400, "badRequest", f"'{version}' is not a supported schema version; use one of {', '.join(_IN_USE)}."
        )
    return version


def _arg(request: RecordedRequest, name: str, default: str | None = None) -> str | None:
    """Read a query parameter whatever its case (``externalId``, ``externalID``, ``externalid``).

    Surrounding double quotes are dropped: a page prints ``targetType="preview"``.
    """
    wanted = name.lower()
    for key, value in request.query.items():
        if key.lower() == wanted:
            return value.strip('"')
    return default


def _path(request: RecordedRequest) -> str:
    """Return the path after the prefix, repeated slashes made one (a public client sends ``...//configure``)."""
    return re.sub("/{2,}", "/", request.path[len(PREFIX) :])


def _match_route(request: RecordedRequest) -> tuple[str, dict[str, str]]:
    """Return the route name and its percent-decoded path parameters (404 or 405 otherwise)."""
    path = _path(request)
    for name, methods, pattern in _ROUTES:
        match = pattern.fullmatch(path)
        if match is None:
            continue
        if request.method not in methods:
            body = {
                "error": {
                    "code": "methodNotAllowed",
                    "message": f"{request.method} is not allowed here.",
                    "details": [],
                }
            }
            raise HttpError(Response(405, body, {"Allow": ", ".join(methods)}))
        return name, {key: unquote(value) for key, value in match.groupdict().items()}
    raise error(404, "notFound", f"No route for {request.method} {request.path}.")
