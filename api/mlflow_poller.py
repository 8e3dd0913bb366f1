"""The optional MLflow poller: a full reconcile every ``mlflow_poll_seconds``, in the app's lifespan."""

from __future__ import annotations

import asyncio
import logging

from api.settings import Settings
from graph.errors import LineageError
from graph.store import LineageStore
from ingest.mlflow_reconcile import ReconcileReport, reconcile
from ingest.mlflow_rest import MlflowReader, MlflowUnavailable

log = logging.getLogger("lineage.mlflow")


async def poll_mlflow(store: LineageStore, settings: Settings, reports: list[ReconcileReport] | None = None) -> None:
    """Reconcile the graph with MLflow forever (until cancelled); a failed round is logged and retried."""
    assert settings.mlflow_tracking_uri and settings.mlflow_poll_seconds
    while True:
        reader = MlflowReader(
            settings.mlflow_tracking_uri, timeout=settings.mlflow_timeout_seconds, feast_project=settings.feast_project
        )
        try:
            report = await reconcile(store, reader)
            if reports is not None:
                reports.append(report)
                del reports[:-10]
            if report.journaled or report.gone:
                log.info(
                    "MLflow reconcile: %d changed, %d unchanged, %d gone",
                    report.journaled,
                    report.unchanged,
                    len(report.gone),
                )
        except (MlflowUnavailable, LineageError) as e:
            log.warning("MLflow reconcile failed, retrying in %.0f s: %s", settings.mlflow_poll_seconds, e)
        except Exception:  # a background task at the process edge: log, keep polling
            log.exception("MLflow reconcile failed unexpectedly")
        finally:
            await reader.aclose()
        await asyncio.sleep(settings.mlflow_poll_seconds)
