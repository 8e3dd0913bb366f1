"""Read registry objects through MLflow's REST API (2.0 and 3.x endpoints) into snapshot documents.

Webhook payloads are only triggers (they lack run and logged-model ids): the object is re-read
here, with the run that trained each version (its dataset inputs) and the logged model its
``models:/m-<id>`` source names. Prompts are registered models tagged ``mlflow.prompt.is_prompt``;
MLflow's searches hide them unless that tag is in the filter.
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import httpx

from ingest.mlflow import PROMPT_TAG, namespace_of

Json = dict[str, Any]
PROMPT_FILTER = f"tags.`{PROMPT_TAG}` = 'true'"
PAGE = 1000
_PROMPT_ENTITIES = frozenset({"prompt", "prompt_version", "prompt_tag", "prompt_version_tag", "prompt_alias"})


class MlflowUnavailable(Exception):
    """MLflow could not be read now (down, timing out, answering 5xx); the same read may work later."""

    def is_retryable(self) -> bool:
        """Return True: MLflow may be back soon."""
        return True


class MlflowReader:
    """An async reader of one MLflow tracking server, caching runs and logged models per instance."""

    def __init__(self, tracking_uri: str, *, timeout: float = 10.0, feast_project: str | None = None) -> None:
        self.tracking_uri = tracking_uri.rstrip("/")
        self.namespace = namespace_of(tracking_uri)
        self.feast_project = feast_project
        self._http = httpx.AsyncClient(base_url=f"{self.tracking_uri}/api/2.0/mlflow", timeout=timeout)
        self._runs: dict[str, Json | None] = {}
        self._logged: dict[str, Json | None] = {}

    async def __aenter__(self) -> MlflowReader:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    def snapshot(self, models: list[Json], **extra: Any) -> Json:
        """Return a snapshot document of these models (ingest/mlflow.py reads it)."""
        doc: Json = {"namespace": self.namespace, "models": models, **extra}
        if self.feast_project:
            doc["feast_project"] = self.feast_project
        return doc

    async def for_delivery(self, body: Json) -> Json:
        """Re-read what a webhook delivery is about; return its snapshot (without the delivery)."""
        data = body.get("data") or {}
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not name:
            return self.snapshot([])
        version = data.get("version")
        # Only the version the event is about is read with its run and logged model: the others are
        # listed (for alias moves) as the version search returns them, so a delivery costs a few calls.
        deep = {str(version)} if version not in (None, "") else set()
        model = await self.model(name, is_prompt=str(body.get("entity")) in _PROMPT_ENTITIES, deep=deep)
        return self.snapshot([model] if model is not None else [])

    async def names(self, *, prompts: bool) -> list[str]:
        """Return the names of every registered model, or of every prompt."""
        names: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"max_results": PAGE}
            if prompts:
                params["filter"] = PROMPT_FILTER
            if token:
                params["page_token"] = token
            page = await self._get("/registered-models/search", params) or {}
            names.extend(m["name"] for m in page.get("registered_models") or [])
            token = page.get("next_page_token")
            if not token:
                return names

    async def model(self, name: str, *, is_prompt: bool, deep: set[str] | None = None) -> Json | None:
        """Return a registered model (or prompt) with its versions; None if gone.

        Each version comes with its run and logged model, or only those in ``deep`` when given.
        """
        found = await self._get("/registered-models/get", {"name": name})
        if found is None:
            return None
        rm = found["registered_model"]
        tags = _tag_map(rm.get("tags"))
        doc: Json = {
            "name": rm["name"],
            "is_prompt": is_prompt or tags.get(PROMPT_TAG) == "true",
            "creation_timestamp": rm.get("creation_timestamp"),
            "last_updated_timestamp": rm.get("last_updated_timestamp"),
            "description": rm.get("description") or "",
            "tags": tags,
            "aliases": {a["alias"]: str(a["version"]) for a in rm.get("aliases") or []},
            "versions": [],
        }
        for version in await self._versions(name, doc["is_prompt"]):
            read_links = deep is None or str(version.get("version")) in deep
            doc["versions"].append(await self._version(version, read_links=read_links))
        doc["versions"].sort(key=lambda v: int(v["version"]) if str(v["version"]).isdigit() else 0)
        return doc

    async def _versions(self, name: str, is_prompt: bool) -> list[Json]:
        escaped = name.replace("'", "\\'")
        text = f"name='{escaped}'" + (f" AND {PROMPT_FILTER}" if is_prompt else "")
        versions: list[Json] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"filter": text, "max_results": PAGE}
            if token:
                params["page_token"] = token
            page = await self._get("/model-versions/search", params) or {}
            versions.extend(page.get("model_versions") or [])
            token = page.get("next_page_token")
            if not token:
                return versions

    async def _version(self, mv: Json, *, read_links: bool) -> Json:
        doc: Json = {
            k: mv.get(k)
            for k in ("version", "creation_timestamp", "last_updated_timestamp", "description", "source", "status")
        }
        doc["run_id"] = mv.get("run_id") or None
        doc["tags"] = _tag_map(mv.get("tags"))
        source = mv.get("source") or ""
        logged = None
        if not read_links:
            return doc
        if isinstance(source, str) and source.startswith("models:/m-"):
            logged = await self.logged_model(source.removeprefix("models:/"))
        doc["logged_model"] = logged
        run_id = doc["run_id"] or (logged or {}).get("source_run_id")
        doc["run"] = await self.run(run_id) if run_id else None
        return doc

    async def logged_model(self, model_id: str) -> Json | None:
        """Return a logged model (MLflow 3), or None when it is gone."""
        if model_id not in self._logged:
            found = await self._get(f"/logged-models/{model_id}", {})
            info = (found or {}).get("model", {}).get("info")
            self._logged[model_id] = (
                None
                if info is None
                else {
                    "model_id": info.get("model_id"),
                    "name": info.get("name"),
                    "status": info.get("status"),
                    "model_type": info.get("model_type") or None,
                    "artifact_uri": info.get("artifact_uri"),
                    "source_run_id": info.get("source_run_id"),
                    "tags": _tag_map(info.get("tags")),
                }
            )
        return self._logged[model_id]

    async def run(self, run_id: str) -> Json | None:
        """Return a run with its tags and dataset inputs, or None when it is gone."""
        if run_id not in self._runs:
            found = await self._get("/runs/get", {"run_id": run_id})
            run = (found or {}).get("run")
            self._runs[run_id] = (
                None
                if run is None
                else {
                    "info": {
                        k: run["info"].get(k)
                        for k in ("run_id", "experiment_id", "run_name", "status", "start_time", "end_time")
                    },
                    "data": {"tags": _tag_map((run.get("data") or {}).get("tags"))},
                    "inputs": {"dataset_inputs": (run.get("inputs") or {}).get("dataset_inputs") or []},
                }
            )
        return self._runs[run_id]

    async def _get(self, path: str, params: dict[str, Any]) -> Json | None:
        """GET a JSON document; None on 404 (gone), MlflowUnavailable when MLflow cannot answer."""
        try:
            response = await self._http.get(path, params=params)
        except httpx.HTTPError as e:
            msg = f"MLflow at {self.tracking_uri} cannot be reached: {type(e).__name__}"
            raise MlflowUnavailable(msg) from e
        if response.status_code == 404:
            return None
        if response.status_code >= 500 or response.status_code == 429:
            msg = f"MLflow at {self.tracking_uri} answered {response.status_code} to {path}"
            raise MlflowUnavailable(msg)
        if response.status_code >= 400:
            msg = f"MLflow at {self.tracking_uri} refused {path}: {response.status_code} {response.text[:200]}"
            raise MlflowUnavailable(msg)
        body: Json = response.json()
        return body


def _tag_map(tags: Any) -> dict[str, str]:
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t["key"]): str(t.get("value", "")) for t in tags or [] if isinstance(t, dict) and "key" in t}
