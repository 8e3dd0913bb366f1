"""A realistic mixed estate, deterministic from a seed: the demo and the benchmarks' input.

One company runs both halves of the mission side by side, over several days:
- predictive ML: Postgres source tables -> dbt-like staging and mart models (joins, column
  lineage) -> Feast feature views -> churn model training runs -> model versions with a
  ``champion`` alias that moves (and is rolled back once) -> daily batch scoring;
- an LLM app: help-centre articles and resolved tickets -> chunking -> embedding model ->
  Qdrant index builds -> a support RAG app with prompt versions (a ``production`` alias that
  moves, a canary) -> thousands of answers, each a traced call with five retrieved documents.
At larger sizes more data domains (synthetic dbt projects) and more answers are added.

Every event is a native document (ingest/native.py), in event-time order, the way producers
would have sent them; ``Estate.landmarks`` names the nodes tests and people start from.
"""

from __future__ import annotations

import bisect
import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.keys import Kind, NodeKey, column_key

Doc = dict[str, Any]

PG = "postgres://orders-db.internal:5432"
WAREHOUSE = "snowflake://acme-prod.eu-west-1"
DBT = "dbt://acme-analytics"
KB_BUCKET = "s3://acme-support-kb"
AIRFLOW_RAG = "airflow://rag-pipelines"
AIRFLOW_ML = "airflow://ml-pipelines"
QDRANT = "qdrant://qdrant.internal:6333"
MLFLOW = "mlflow://mlflow.internal"
FEAST = "feast://churn-features"
RAG_SERVICE = "support-rag"

SOURCE_TABLES: dict[str, list[str]] = {
    "customers": ["customer_id", "email", "country", "signup_at", "plan"],
    "orders": ["order_id", "customer_id", "ordered_at", "status", "total_amount"],
    "order_items": ["order_id", "product_id", "quantity", "unit_price"],
    "products": ["product_id", "name", "category", "list_price"],
    "payments": ["payment_id", "order_id", "method", "amount", "paid_at"],
    "subscriptions": ["subscription_id", "customer_id", "plan", "started_at", "cancelled_at"],
    "web_sessions": ["session_id", "customer_id", "started_at", "pages", "device"],
    "support_tickets": ["ticket_id", "customer_id", "opened_at", "subject", "resolution", "status"],
}
#: mart model -> the staging or mart models it joins
MARTS: dict[str, list[str]] = {
    "fct_orders": ["stg_orders", "stg_order_items", "stg_payments", "stg_products"],
    "dim_customers": ["stg_customers", "stg_subscriptions", "stg_web_sessions"],
    "fct_support": ["stg_support_tickets", "stg_customers"],
    "customer_features_daily": ["fct_orders", "dim_customers", "fct_support"],
    "churn_labels": ["dim_customers", "stg_subscriptions"],
}
MART_COLUMNS: dict[str, list[str]] = {
    "fct_orders": ["order_id", "customer_id", "ordered_at", "items", "revenue", "payment_method"],
    "dim_customers": ["customer_id", "country", "plan", "tenure_days", "sessions_30d"],
    "fct_support": ["ticket_id", "customer_id", "opened_at", "resolved", "first_response_min"],
    "customer_features_daily": [
        "customer_id",
        "orders_30d",
        "revenue_30d",
        "tickets_30d",
        "sessions_30d",
        "tenure_days",
    ],
    "churn_labels": ["customer_id", "churned_within_30d"],
}
FEATURE_VIEWS: dict[str, list[str]] = {
    "customer_activity": ["orders_30d", "sessions_30d", "tickets_30d"],
    "customer_value": ["revenue_30d", "tenure_days"],
}


def iso(t: datetime) -> str:
    """Return the ISO text of a time."""
    return t.isoformat().replace("+00:00", "Z")


@dataclass
class Plan:
    """How big each part of the estate is."""

    days: int = 7
    domains: int = 0  # synthetic data domains beyond the named one
    documents: int = 400
    answers: int = 3000

    @classmethod
    def for_nodes(cls, nodes: int) -> Plan:
        """Return a plan whose estate has roughly this many nodes."""
        if nodes <= 12_000:
            scale = nodes / 10_000
            return cls(documents=max(50, int(400 * scale)), answers=max(100, int(4000 * scale)))
        # Data domains hold ~30% of nodes (~750 each), documents ~8%, answers (2 nodes) the rest.
        return cls(domains=int(nodes * 0.3 / 750), documents=int(nodes * 0.08), answers=int(nodes * 0.3))


@dataclass
class _Tables:
    """What the generator knows while it writes: the latest version of each dataset."""

    columns: dict[NodeKey, list[str]] = field(default_factory=dict)
    history: dict[NodeKey, list[tuple[datetime, NodeKey]]] = field(default_factory=dict)

    def wrote(self, entity: NodeKey, version: NodeKey, t: datetime) -> None:
        """Record that a version of an entity became current at ``t``."""
        self.history.setdefault(entity, []).append((t, version))

    def version_at(self, entity: NodeKey, t: datetime) -> NodeKey | None:
        """Return the version of an entity that was current at ``t``."""
        live = [(vt, v) for vt, v in self.history.get(entity, []) if vt <= t]
        return max(live, key=lambda p: p[0])[1] if live else None


class Estate:
    """Generate the events of an estate."""

    def __init__(self, plan: Plan | None = None, *, seed: int = 7, start: datetime | None = None) -> None:
        self.plan = plan or Plan()
        self.rng = random.Random(seed)
        self.start = start or datetime(2026, 11, 16, tzinfo=UTC)
        self.tables = _Tables()
        self.landmarks: dict[str, str] = {}

    # -- keys ------------------------------------------------------------------------------

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    @staticmethod
    def source_table(name: str, db: str = "shop") -> NodeKey:
        """Return the key of a Postgres source table."""
        return NodeKey(Kind.DATASET, PG, f"{db}.public.{name}")

    @staticmethod
    def model_table(model: str, project: str = "ANALYTICS") -> NodeKey:
        """Return the key of a warehouse table a dbt model writes."""
        schema = "STAGING" if model.startswith("stg_") else "MARTS"
        return NodeKey(Kind.DATASET, WAREHOUSE, f"{project}.{schema}.{model.upper()}")

    # -- the events ------------------------------------------------------------------------

    def events(self) -> Iterator[Doc]:
        """Yield every event of the estate, in event-time order."""
        timed = [(t, n, doc) for n, (t, doc) in enumerate(self._generate())]
        timed.sort(key=lambda item: (item[0], item[1]))
        for _, _, doc in timed:
            yield doc

    def _generate(self) -> Iterator[tuple[datetime, Doc]]:
        yield from self._data_platform()
        yield from self._ml()
        yield from self._rag()

    # -- predictive ML: tables, dbt, features, training, scoring ---------------------------

    def _data_platform(self) -> Iterator[tuple[datetime, Doc]]:
        models = {f"stg_{t}": [t] for t in SOURCE_TABLES} | MARTS
        columns = {f"stg_{t}": cols for t, cols in SOURCE_TABLES.items()} | MART_COLUMNS
        yield from self._dbt_project("shop", "ANALYTICS", SOURCE_TABLES, models, columns, hour=2)
        self.landmarks["source_table"] = self.source_table("support_tickets").urn
        self.landmarks["orders_table"] = self.source_table("orders").urn
        self.landmarks["mart"] = self.model_table("customer_features_daily").urn
        for d in range(self.plan.domains):
            yield from self._synthetic_domain(d)

    def _synthetic_domain(self, d: int) -> Iterator[tuple[datetime, Doc]]:
        rng = self.rng
        db = f"domain_{d:04d}"
        sources = {f"src_{i}": [f"c{j}" for j in range(rng.randint(4, 10))] for i in range(rng.randint(6, 10))}
        models: dict[str, list[str]] = {f"stg_src_{i}": [f"src_{i}"] for i in range(len(sources))}
        layer = list(models)
        for depth in range(3):
            new_layer = []
            for m in range(rng.randint(2, 5)):
                name = f"mart_{depth}_{m}"
                models[name] = rng.sample(layer, k=min(len(layer), rng.randint(1, 4)))
                new_layer.append(name)
            layer = layer + new_layer
        columns = {m: [f"c{j}" for j in range(rng.randint(3, 8))] for m in models}
        yield from self._dbt_project(db, db.upper(), sources, models, columns, hour=1 + d % 4)

    def _dbt_project(
        self,
        db: str,
        project: str,
        sources: dict[str, list[str]],
        models: dict[str, list[str]],
        columns: dict[str, list[str]],
        hour: int,
    ) -> Iterator[tuple[datetime, Doc]]:
        keys: dict[str, NodeKey] = {}
        for name, cols in sources.items():
            keys[name] = self.source_table(name, db)
            self.tables.columns[keys[name]] = cols
        for model in models:
            keys[model] = self.model_table(model, project)
            self.tables.columns[keys[model]] = columns[model]
        order = list(models)  # inputs are always declared before the models that read them
        for day in range(self.plan.days):
            day_start = self.start + timedelta(days=day)
            # The source database's nightly snapshot is the version every run of the day reads.
            for name in sources:
                snapshot = NodeKey(
                    Kind.DATASET_VERSION, keys[name].namespace, keys[name].name, f"snapshot-{iso(day_start)[:10]}"
                )
                self.tables.wrote(keys[name], snapshot, day_start)
            for i, model in enumerate(order):
                t = day_start + timedelta(hours=hour, minutes=2 * i, seconds=self.rng.randint(0, 59))
                inputs = [keys[m] for m in models[model]]
                job = NodeKey(Kind.JOB, DBT, f"{project.lower()}.{model}")
                yield t, self._run_doc(job, inputs, [keys[model]], t, sql=_sql(model, models[model]))

    def _run_doc(
        self,
        job: NodeKey,
        inputs: list[NodeKey],
        outputs: list[NodeKey],
        t: datetime,
        *,
        sql: str | None = None,
        run_props: dict[str, Any] | None = None,
        output_kind: Kind = Kind.DATASET,
    ) -> Doc:
        """Return one completed run: entity-level and run-level lineage, columns, versions."""
        run = NodeKey(Kind.RUN, job.namespace, job.name, self._uuid())
        ended = t + timedelta(seconds=self.rng.randint(20, 600))
        doc = _Doc()
        doc.node(job, t, {"jobType": "dbt" if job.namespace == DBT else "batch", **({"sql": sql} if sql else {})})
        doc.node(
            run,
            ended,
            {"state": "COMPLETE", "started_at": iso(t), "ended_at": iso(ended), **(run_props or {})},
            priority=1,
        )
        doc.edge(run, "RUN_OF", job, t)
        for key in inputs:
            doc.edge(key, "INPUT_OF", job, t)
            version = self.tables.version_at(key, t)
            if version is not None:
                doc.edge(version, "VERSION_OF", key, t)
                doc.edge(version, "INPUT_OF", run, t)
            else:
                doc.edge(key, "INPUT_OF", run, t)
        for key in outputs:
            doc.edge(job, "PRODUCED", key, ended)
            version = NodeKey(Kind.DATASET_VERSION, key.namespace, key.name, run.version or "")
            doc.node(version, ended, {"row_count": self.rng.randint(1_000, 5_000_000)})
            doc.edge(version, "VERSION_OF", key, ended)
            doc.edge(run, "PRODUCED", version, ended)
            self.tables.wrote(key, version, ended)
            self._column_lineage(doc, inputs, key, ended)
        return doc.doc

    def _column_lineage(self, doc: _Doc, inputs: list[NodeKey], output: NodeKey, t: datetime) -> None:
        in_columns = [(k, c) for k in inputs for c in self.tables.columns.get(k, [])]
        for column in self.tables.columns.get(output, []):
            out = column_key(output, column)
            doc.edge(out, "PART_OF", output, t)
            same = [(k, c) for k, c in in_columns if c == column]
            picks = same[:1] or self.rng.sample(in_columns, k=min(len(in_columns), self.rng.randint(1, 2)))
            for k, c in picks:
                col = column_key(k, c)
                doc.edge(col, "PART_OF", k, t)
                kind = "IDENTITY" if c == column else self.rng.choice(["AGGREGATION", "TRANSFORMATION"])
                doc.edge(col, "DERIVES", out, t, {"transformation": kind})

    def _ml(self) -> Iterator[tuple[datetime, Doc]]:
        features_table = self.model_table("customer_features_daily")
        labels = self.model_table("churn_labels")
        views = {name: NodeKey(Kind.FEATURE_VIEW, FEAST, name) for name in FEATURE_VIEWS}
        model = NodeKey(Kind.MODEL, MLFLOW, "churn-model")
        train_job = NodeKey(Kind.JOB, MLFLOW, "churn-training")
        score_job = NodeKey(Kind.JOB, AIRFLOW_ML, "churn_scoring.score")
        predictions = NodeKey(Kind.DATASET, WAREHOUSE, "ANALYTICS.ML.CHURN_PREDICTIONS")
        self.landmarks["model"] = model.urn
        versions: list[NodeKey] = []
        champion: NodeKey | None = None
        train_days = [d for d in (1, 3, 5) if d < self.plan.days]
        rollback_day = 6 if self.plan.days > 6 else None
        for day in range(self.plan.days):
            day_start = self.start + timedelta(days=day)
            # Feast materialization after the marts are built.
            for i, (name, view) in enumerate(views.items()):
                t = day_start + timedelta(hours=5, minutes=5 * i)
                job = NodeKey(Kind.JOB, FEAST, f"materialize.{name}")
                doc = _Doc()
                run = NodeKey(Kind.RUN, job.namespace, job.name, self._uuid())
                version = self.tables.version_at(features_table, t)
                assert version is not None, "the feature mart is built before materialization"
                doc.node(run, t, {"state": "COMPLETE", "started_at": iso(t)}, priority=1)
                doc.edge(run, "RUN_OF", job, t)
                doc.edge(features_table, "INPUT_OF", job, t)
                doc.edge(job, "PRODUCED", view, t)
                doc.edge(version, "INPUT_OF", run, t)
                doc.edge(run, "PRODUCED", view, t)
                for feature in FEATURE_VIEWS[name]:
                    fkey = NodeKey(Kind.FEATURE, FEAST, f"{name}:{feature}")
                    doc.edge(fkey, "PART_OF", view, t)
                    doc.edge(column_key(features_table, feature), "DERIVES", fkey, t, {"transformation": "IDENTITY"})
                yield t, doc.doc
            if day in train_days:
                t = day_start + timedelta(hours=6)
                mv = NodeKey(Kind.MODEL_VERSION, MLFLOW, "churn-model", str(len(versions) + 1))
                doc_t = self._run_doc(
                    train_job,
                    [*views.values(), labels],
                    [],
                    t,
                    run_props={
                        "mlflow.run_name": f"churn-xgb-{iso(t)[:10]}",
                        "metrics.auc": round(0.8 + 0.02 * len(versions), 3),
                    },
                )
                ended = t + timedelta(minutes=40)
                run_key = next(n["id"] for n in doc_t["nodes"] if n["id"].startswith("urn:lineage:run:"))
                extra = _Doc(doc_t)
                extra.node(mv, ended, {"status": "READY", "source": f"models:/m-{self._uuid()[:8]}"})
                extra.edge(mv, "VERSION_OF", model, ended)
                extra.edge(train_job, "PRODUCED", model, ended)
                extra.edge_by_id(run_key, "PRODUCED", mv.urn, ended)
                yield t, extra.doc
                versions.append(mv)
                yield from self._move_alias(model, "champion", champion, mv, ended + timedelta(hours=1))
                champion = mv
            if rollback_day is not None and day == rollback_day and len(versions) >= 2:
                t = day_start + timedelta(hours=9)
                yield from self._move_alias(model, "champion", champion, versions[-2], t)
                champion = versions[-2]
                self.landmarks["rolled_back_to"] = champion.urn
            if champion is not None and day >= 1:
                t = day_start + timedelta(hours=7)
                batch = NodeKey(Kind.OUTPUT, "churn-scoring", f"predictions/{iso(day_start)[:10]}")
                self.tables.wrote(model, champion, day_start)  # scoring loads the model by its alias
                doc_s = self._run_doc(
                    score_job, [views["customer_activity"], views["customer_value"], model], [predictions], t
                )
                extra = _Doc(doc_s)
                run_key = next(n["id"] for n in doc_s["nodes"] if n["id"].startswith("urn:lineage:run:"))
                extra.edge_by_id(run_key, "PRODUCED", batch.urn, t + timedelta(minutes=10))
                self.landmarks["prediction_batch"] = batch.urn
                yield t, extra.doc
        self.landmarks["model_versions"] = ",".join(v.urn for v in versions)

    def _move_alias(
        self, entity: NodeKey, alias: str, old: NodeKey | None, new: NodeKey, t: datetime
    ) -> Iterator[tuple[datetime, Doc]]:
        doc = _Doc()
        doc.edge(entity, "ALIAS", new, t, {"alias": alias}, qualifier=alias, opens=True)
        if old is not None and old != new:
            doc.close_edge(entity, "ALIAS", old, t, qualifier=alias, reason=f"alias {alias} moved to {new.version}")
        yield t, doc.doc

    # -- the LLM app -----------------------------------------------------------------------

    def _rag(self) -> Iterator[tuple[datetime, Doc]]:
        plan, rng = self.plan, self.rng
        articles = NodeKey(Kind.DATASET, KB_BUCKET, "raw/help-centre-articles")
        tickets = self.source_table("support_tickets")
        chunks = NodeKey(Kind.DATASET, KB_BUCKET, "processed/chunks")
        index = NodeKey(Kind.VECTOR_INDEX, QDRANT, "support_kb")
        embedder = NodeKey(Kind.EMBEDDING_MODEL, "openai", "text-embedding-3-small")
        chunk_job = NodeKey(Kind.JOB, AIRFLOW_RAG, "kb_ingest.chunk_documents")
        build_job = NodeKey(Kind.JOB, AIRFLOW_RAG, "kb_ingest.build_index")
        app = NodeKey(Kind.JOB, f"otel://{RAG_SERVICE}", "support-rag.answer")
        prompt = NodeKey(Kind.PROMPT, MLFLOW, "support-answer")
        llms = [NodeKey(Kind.LLM, "openai", "gpt-4o-2024-08-06"), NodeKey(Kind.LLM, "openai", "gpt-4o-mini-2024-07-18")]
        self.landmarks.update(index=index.urn, prompt=prompt.urn, embedding_model=embedder.urn, rag_job=app.urn)
        self.tables.columns[chunks] = ["chunk_id", "document_id", "text", "source"]

        # Documents: most exist on day 0, a few are added every day.
        docs: list[tuple[datetime, NodeKey, NodeKey]] = []
        for i in range(plan.documents):
            day = 0 if i < plan.documents * 0.7 else rng.randrange(plan.days)
            origin = articles if rng.random() < 0.75 else tickets
            docs.append(
                (
                    self.start + timedelta(days=day, hours=3),
                    NodeKey(Kind.DOCUMENT, QDRANT, f"support_kb/doc-{i:07d}"),
                    origin,
                )
            )
        docs.sort(key=lambda d: (d[0], d[1]))
        doc_times = [t for t, _, _ in docs]
        doc_keys = [key for _, key, _ in docs]
        for t, key, origin in docs:
            doc = _Doc()
            doc.node(key, t, {"source_uri": f"{origin.namespace}/{origin.name}#{key.name.rsplit('-', 1)[-1]}"})
            doc.edge(origin, "DERIVES", key, t, {"transformation": "CHUNKING"})
            doc.edge(key, "PART_OF", index, t)
            yield t, doc.doc

        # Prompt versions and the production alias: v1, v2 on day 2, v3 on day 4; v4 is a canary.
        prompt_days = [0, 2, 4, 5]
        prompt_versions: list[tuple[datetime, NodeKey]] = []
        production: NodeKey | None = None
        for n, day in enumerate(d for d in prompt_days if d < plan.days):
            t = self.start + timedelta(days=day, hours=1)
            pv = NodeKey(Kind.PROMPT_VERSION, MLFLOW, "support-answer", str(n + 1))
            doc = _Doc()
            template = (
                f"You are Acme's support assistant (v{n + 1}). Answer from the context only.\n"
                "{{context}}\nQ: {{question}}"
            )
            doc.node(
                pv,
                t,
                {
                    "template_hash": "sha256:" + hashlib.sha256(template.encode()).hexdigest(),
                    "variables": ["context", "question"],
                    "commit_message": f"revision {n + 1}",
                },
            )
            doc.edge(pv, "VERSION_OF", prompt, t)
            yield t, doc.doc
            prompt_versions.append((t, pv))
            if n < 3:
                yield from self._move_alias(prompt, "production", production, pv, t + timedelta(minutes=30))
                production = pv
        self.landmarks["prompt_versions"] = ",".join(pv.urn for _, pv in prompt_versions)

        # Daily: chunk the corpus, then build the index from the chunks.
        builds: list[tuple[datetime, NodeKey]] = []
        for day in range(plan.days):
            day_start = self.start + timedelta(days=day)
            export = NodeKey(Kind.DATASET_VERSION, KB_BUCKET, articles.name, f"export-{iso(day_start)[:10]}")
            self.tables.wrote(articles, export, day_start)
            t = day_start + timedelta(hours=3, minutes=30)
            yield t, self._run_doc(chunk_job, [articles, tickets], [chunks], t)
            t = day_start + timedelta(hours=4)
            doc_b = self._run_doc(
                build_job, [chunks, embedder], [], t, run_props={"collection": "support_kb", "vectors": plan.documents}
            )
            extra = _Doc(doc_b)
            run_key = next(n["id"] for n in doc_b["nodes"] if n["id"].startswith("urn:lineage:run:"))
            ended = t + timedelta(minutes=15)
            build = NodeKey(Kind.DATASET_VERSION, QDRANT, "support_kb", f"build-{iso(day_start)[:10]}")
            extra.node(build, ended, {"vectors": plan.documents, "embedding_model": embedder.name})
            extra.edge(build, "VERSION_OF", index, ended)
            extra.edge(build_job, "PRODUCED", index, ended)
            extra.edge_by_id(run_key, "PRODUCED", build.urn, ended)
            yield t, extra.doc
            builds.append((ended, build))
        self.landmarks["index_builds"] = ",".join(b.urn for _, b in builds)

        # Answers: spread over the days after the first build, each a traced LLM call.
        first = builds[0][0] + timedelta(minutes=5)
        span = (self.start + timedelta(days=plan.days) - first).total_seconds()
        for i in range(plan.answers):
            t = first + timedelta(seconds=span * i / plan.answers + rng.random())
            live = [pv for pt, pv in prompt_versions if pt <= t]
            prod = [pv for pt, pv in prompt_versions[:3] if pt + timedelta(minutes=30) <= t] or live[:1]
            canary = len(live) == 4 and rng.random() < 0.1
            pv = live[-1] if canary else prod[-1]
            llm = llms[0] if rng.random() < 0.8 else llms[1]
            available = bisect.bisect_right(doc_times, t)  # documents are sorted by when they appeared
            retrieved = [doc_keys[j] for j in rng.sample(range(available), k=min(5, available))]
            yield t, self._answer_doc(app, pv, llm, index, embedder, retrieved, t, i)

    def _answer_doc(
        self,
        app: NodeKey,
        prompt_version: NodeKey,
        llm: NodeKey,
        index: NodeKey,
        embedder: NodeKey,
        retrieved: list[NodeKey],
        t: datetime,
        i: int,
    ) -> Doc:
        rng = self.rng
        trace_id = f"{rng.getrandbits(128):032x}"
        call = NodeKey(Kind.RUN, app.namespace, app.name, trace_id)
        answer = NodeKey(Kind.OUTPUT, RAG_SERVICE, trace_id)
        tokens_in, tokens_out = rng.randint(600, 2400), rng.randint(80, 500)
        route = rng.choice(["billing", "shipping", "returns", "account", "product"])
        doc = _Doc()
        doc.node(
            call,
            t,
            {
                "state": "COMPLETE",
                "route": route,
                "llm.token_count.prompt": tokens_in,
                "llm.token_count.completion": tokens_out,
                "cost_usd": round(tokens_in * 2.5e-6 + tokens_out * 1e-5, 6),
                "latency_ms": rng.randint(400, 4000),
            },
            priority=1,
        )
        doc.node(answer, t, {"text_sha256": f"{rng.getrandbits(256):064x}", "text_length": rng.randint(200, 1500)})
        doc.edge(call, "RUN_OF", app, t)
        doc.edge(prompt_version, "INPUT_OF", call, t)
        doc.edge(llm, "INPUT_OF", call, t)
        doc.edge(index, "INPUT_OF", call, t)
        doc.edge(embedder, "INPUT_OF", call, t)
        for rank, key in enumerate(retrieved, start=1):
            doc.edge(
                key, "INPUT_OF", call, t, {"rank": rank, "score": round(0.92 - 0.04 * rank + rng.random() * 0.02, 4)}
            )
        doc.edge(call, "PRODUCED", answer, t)
        if i == 0:
            self.landmarks["first_answer"] = answer.urn
        self.landmarks["answer"] = answer.urn  # the latest one
        return doc.doc


class _Doc:
    """Build one native document."""

    def __init__(self, doc: Doc | None = None) -> None:
        self.doc: Doc = doc if doc is not None else {"nodes": [], "edges": [], "closes": []}

    def node(self, key: NodeKey, t: datetime, props: dict[str, Any] | None = None, *, priority: int = 0) -> None:
        entry: Doc = {"id": key.urn, "time": iso(t)}
        if props:
            entry["properties"] = props
        if priority:
            entry["priority"] = priority
        self.doc["nodes"].append(entry)

    def edge(
        self,
        src: NodeKey,
        edge_type: str,
        dst: NodeKey,
        t: datetime,
        props: dict[str, Any] | None = None,
        *,
        qualifier: str = "",
        opens: bool = False,
    ) -> None:
        self.edge_by_id(src.urn, edge_type, dst.urn, t, props, qualifier=qualifier, opens=opens)

    def edge_by_id(
        self,
        src: str,
        edge_type: str,
        dst: str,
        t: datetime,
        props: dict[str, Any] | None = None,
        *,
        qualifier: str = "",
        opens: bool = False,
    ) -> None:
        entry: Doc = {"src": src, "type": edge_type, "dst": dst, "time": iso(t)}
        if props:
            entry["properties"] = props
        if qualifier:
            entry["qualifier"] = qualifier
        if opens:
            entry["opens"] = True
        self.doc["edges"].append(entry)

    def close_edge(
        self, src: NodeKey, edge_type: str, dst: NodeKey, t: datetime, *, qualifier: str, reason: str
    ) -> None:
        ref = {"src": src.urn, "type": edge_type, "dst": dst.urn, "qualifier": qualifier}
        self.doc["closes"].append({"edge": ref, "time": iso(t), "reason": reason})


def _sql(model: str, inputs: list[str]) -> str:
    tables = [f"{{{{ ref('{i}') }}}}" for i in inputs]
    if len(tables) == 1:
        return f"select * from {tables[0]}"  # noqa: S608 (dbt text shown to people, never run)
    joins = " ".join(f"join {t} using (customer_id)" for t in tables[1:])
    return f"select * from {tables[0]} {joins}"  # noqa: S608
