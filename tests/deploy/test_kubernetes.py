"""deploy/kubernetes, as `kubectl kustomize` renders it: the base and each overlay.

Every object is validated offline against the schemas of Kubernetes ``KUBERNETES_VERSION`` (the
kubernetes-validate package bundles them; strict: a field the API does not know is an error, as
`kubectl apply` refuses it), and KEDA's objects against the schemas of KEDA's own CRDs (copied into
tests/deploy/keda/). Then what the deployment promises: the ScaledObject scales the worker Deployment
on RQ's keys for the configured queues (interactive and bulk), one pod per waiting job of either, never
fewer than the jobs running; every container has requests and limits; the API is ready when
it can take submissions (/readyz) and alive when it answers (/healthz); a stopped worker has time to
hand its job back; a worker pod's memory covers the largest job the API accepts; every TLPROBE_
variable is a setting the code reads; Redis persists and evicts nothing.

kubectl must be installed (`make test` installs it with devtools/need-program): without it these
tests fail, they do not skip.
"""

from __future__ import annotations

import copy
import importlib
import json
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from redis import Redis
from rq import Queue
from rq.registry import StartedJobRegistry

from tlprobe_server.queues import PRIORITY, queue_name
from tlprobe_server.settings import Settings, environment_variables
from worker.lanes import layout

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES = ROOT / "deploy" / "kubernetes"
#: the Kubernetes version whose API schemas every object must satisfy (docs/deploy.md names it too)
KUBERNETES_VERSION = "1.31"
VARIANTS = {"base": KUBERNETES, "external-redis": KUBERNETES / "overlays" / "external-redis",
            "sentinel": KUBERNETES / "overlays" / "sentinel"}
COMMON = {("ConfigMap", "tlprobe-config"), ("Deployment", "tlprobe-api"), ("Service", "tlprobe-api"),
          ("PodDisruptionBudget", "tlprobe-api"), ("Deployment", "tlprobe-worker"), ("ScaledObject", "tlprobe-worker"),
          ("TriggerAuthentication", "tlprobe-redis")}
OWN_REDIS = {("StatefulSet", "tlprobe-redis"), ("Service", "tlprobe-redis"), ("NetworkPolicy", "tlprobe-redis"),
             ("ConfigMap", "tlprobe-redis-config")}
OBJECTS = {"base": COMMON | OWN_REDIS, "external-redis": COMMON, "sentinel": COMMON}
#: the Secret every variant reads, and the keys each one needs (docs/deploy.md lists them)
SECRET = "tlprobe-secrets"
SECRET_KEYS = {"base": {"redis-password", "api-tokens"},
               "external-redis": {"redis-url", "redis-address", "redis-password", "redis-tls", "api-tokens"},
               "sentinel": {"redis-password", "redis-sentinel-password", "api-tokens"}}
#: a worker pod's memory besides its jobs, measured as the memory cgroup counts it (pool, one worker,
#: its work horse during a small job; cold page cache): 130 MiB resident + 134 MiB of page cache, 284 MiB
#: at peak (worker.yaml). The request must cover it on top of the largest job.
WORKER_BASELINE_BYTES = 284 * 2**20
UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "": 1}


def quantity(value) -> float:
    """A Kubernetes quantity (``3400Mi``, ``250m``, ``"1"``) as a number (bytes, cores)."""
    match = re.fullmatch(r"([0-9.]+)(m|Ki|Mi|Gi|Ti|k|M|G|T|)", str(value))
    assert match, f"not a quantity: {value!r}"
    number, unit = float(match.group(1)), match.group(2)
    return number / 1000 if unit == "m" else number * UNITS[unit]


@cache
def kubectl() -> str:
    """kubectl, with a kustomize that can build the manifests (components, labels: kustomize 5, in kubectl
    1.27 and later; Debian's own kubernetes-client is 1.20)."""
    binary = shutil.which("kubectl")
    assert binary, "kubectl is not installed: `make test` installs it (devtools/need-program kubectl)"
    version = subprocess.run([binary, "version", "--client", "-o", "json"], capture_output=True, text=True, timeout=60)
    kustomize = json.loads(version.stdout or "{}").get("kustomizeVersion", "")
    assert re.match(r"v([5-9]|[1-9][0-9])\.", kustomize), \
        f"{binary} embeds kustomize {kustomize or '?'}: kubectl 1.27 or later is needed"
    return binary


@cache
def render(variant: str) -> tuple[dict, ...]:
    result = subprocess.run([kubectl(), "kustomize", str(VARIANTS[variant])], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return tuple(document for document in yaml.safe_load_all(result.stdout) if document)


def generated_name(obj: dict) -> str:
    """The name an object was written with: a generated ConfigMap's name without its content hash."""
    name = obj["metadata"]["name"]
    return re.sub(r"-[a-z0-9]{10}$", "", name) if obj["kind"] == "ConfigMap" else name


def one(objects, kind: str, name: str) -> dict:
    found = [obj for obj in objects if obj["kind"] == kind and generated_name(obj) == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def workloads(objects) -> list[dict]:
    return [obj for obj in objects if obj["kind"] in ("Deployment", "StatefulSet")]


def containers(objects):
    for workload in workloads(objects):
        for container in workload["spec"]["template"]["spec"]["containers"]:
            yield workload, container


def config(objects) -> dict[str, str]:
    return one(objects, "ConfigMap", "tlprobe-config")["data"]


def environment(objects, container: dict) -> dict[str, str]:
    """A container's environment as the kubelet builds it: its ConfigMaps, then its own variables with
    $(VAR) expanded; Secret values stand in as <secret:key>."""
    env = {}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        env.update(next(obj for obj in objects if obj["kind"] == "ConfigMap" and obj["metadata"]["name"] == name)["data"])
    for variable in container.get("env", []):
        if "valueFrom" in variable:
            env[variable["name"]] = f"<secret:{variable['valueFrom']['secretKeyRef']['key']}>"
        else:
            env[variable["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env[m.group(1)], variable["value"])
    return env


@pytest.fixture(params=list(VARIANTS))
def variant(request) -> str:
    return request.param


@pytest.fixture
def objects(variant) -> tuple[dict, ...]:
    return render(variant)


# --- schemas ------------------------------------------------------------------------------------------

def test_the_rendered_objects(variant, objects):
    assert {(obj["kind"], generated_name(obj)) for obj in objects} == OBJECTS[variant]
    assert {obj["metadata"].get("namespace") for obj in objects} == {"tlprobe"}
    assert all(obj["metadata"]["labels"]["app.kubernetes.io/part-of"] == "tlprobe" for obj in objects)


def test_every_kubernetes_object_satisfies_the_api_schemas(variant, objects):
    checked = 0
    for obj in objects:
        if obj["apiVersion"].startswith("keda.sh/"):
            continue
        try:
            version = kubernetes_validate.validate(copy.deepcopy(obj), KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            raise AssertionError(f"{obj['kind']}/{obj['metadata']['name']}: {'.'.join(map(str, error.path))}: "
                                 f"{error.message}") from None
        assert version == KUBERNETES_VERSION
        checked += 1
    assert checked == len(OBJECTS[variant]) - 2  # all but KEDA's two


def test_the_schema_check_refuses_what_the_api_would():
    """The validator is not a formality: a misspelt field, a wrong type and a missing required field fail."""
    worker = copy.deepcopy(one(render("base"), "Deployment", "tlprobe-worker"))
    kubernetes_validate.validate(copy.deepcopy(worker), KUBERNETES_VERSION, strict=True)
    bad = copy.deepcopy(worker)
    bad["spec"]["template"]["spec"]["terminationGracePeriod"] = 30
    wrong = copy.deepcopy(worker)
    wrong["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"] = ["1"]
    missing = copy.deepcopy(worker)
    del missing["spec"]["selector"]
    for obj in (bad, wrong, missing):
        with pytest.raises(kubernetes_validate.ValidationError):
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)


def _closed(schema):
    """A CRD's schema as the API server applies it with kubectl's strict field validation: an object
    with declared properties refuses others unless it preserves unknown fields."""
    if isinstance(schema, dict):
        schema = {key: _closed(value) for key, value in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@cache
def crd_schema(kind: str, api_version: str) -> dict:
    crd = yaml.safe_load((ROOT / "tests" / "deploy" / "keda" / f"keda.sh_{kind.lower()}s.yaml").read_text())
    group, version = api_version.split("/")
    assert crd["spec"]["group"] == group and crd["spec"]["names"]["kind"] == kind
    served = next(v for v in crd["spec"]["versions"] if v["name"] == version)
    return _closed(served["schema"]["openAPIV3Schema"])


def test_keda_objects_satisfy_kedas_crd_schemas(objects):
    keda = [obj for obj in objects if obj["apiVersion"].startswith("keda.sh/")]
    assert {obj["kind"] for obj in keda} == {"ScaledObject", "TriggerAuthentication"}
    for obj in keda:
        jsonschema.Draft7Validator(crd_schema(obj["kind"], obj["apiVersion"])).validate(obj)
    misspelt = copy.deepcopy(one(objects, "ScaledObject", "tlprobe-worker"))
    misspelt["spec"]["minReplicas"] = 0
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft7Validator(crd_schema("ScaledObject", misspelt["apiVersion"])).validate(misspelt)


# --- autoscaling --------------------------------------------------------------------------------------

def test_the_scaled_object_scales_the_workers_on_the_queue(variant, objects):
    scaled = one(objects, "ScaledObject", "tlprobe-worker")["spec"]
    worker = one(objects, "Deployment", "tlprobe-worker")
    target = scaled["scaleTargetRef"]
    assert (target.get("apiVersion", "apps/v1"), target.get("kind", "Deployment"), target["name"]) == \
        ("apps/v1", "Deployment", worker["metadata"]["name"])
    assert "replicas" not in worker["spec"], "the ScaledObject owns the worker count; an apply would reset it"
    assert scaled["minReplicaCount"] == 0 and scaled["maxReplicaCount"] >= 1

    configured = config(objects)["TLPROBE_QUEUE_NAME"]
    assert configured == Settings.model_fields["queue_name"].default  # the name the code uses unless told otherwise
    for _, container in containers(objects):  # nobody overrides it per container
        assert all(variable["name"] != "TLPROBE_QUEUE_NAME" for variable in container.get("env", []))
    settings = Settings(queue_name=configured)
    connection = Redis()  # never connected: RQ builds its key names from the queue's name only
    waiting = [Queue(queue_name(settings, lane), connection=connection).key for lane in PRIORITY]
    running = [StartedJobRegistry(queue_name(settings, lane), connection=connection).key for lane in PRIORITY]
    assert waiting + running == ["rq:queue:tlprobe", "rq:queue:tlprobe-bulk", "rq:wip:tlprobe", "rq:wip:tlprobe-bulk"]
    triggers = scaled["triggers"]
    assert [trigger["metadata"]["listName"] for trigger in triggers] == waiting + running
    kind = "redis-sentinel" if variant == "sentinel" else "redis"
    for trigger in triggers:
        assert trigger["type"] == kind
        assert int(trigger["metadata"]["listLength"]) == 1
        assert trigger["metadata"].get("databaseIndex", "0") == "0"
        assert one(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    # the autoscaler alone would take the largest trigger's count: the four are composed into one, whose
    # target of 1 asks for a pod per job waiting in either queue, and no fewer pods than jobs running
    modifiers = scaled["advanced"]["scalingModifiers"]
    assert modifiers["target"] == "1" and modifiers.get("metricType", "AverageValue") == "AverageValue"
    names = [trigger["name"] for trigger in triggers]
    assert all(re.fullmatch(r"[a-z_]+", name) for name in names)  # identifiers of KEDA's formula language (expr)

    def wanted(*counts: int) -> int:  # the formula, in Python's spelling of the same expression
        return eval(modifiers["formula"], {"__builtins__": {}, "max": max}, dict(zip(names, counts)))

    assert wanted(3, 5, 1, 1) == 8 and wanted(0, 0, 1, 2) == 3 and wanted(0, 2, 2, 0) == 2 and wanted(0, 0, 0, 0) == 0


def test_keda_reaches_the_redis_the_workers_use(variant, objects):
    scaled = one(objects, "ScaledObject", "tlprobe-worker")["spec"]
    auth = {ref["parameter"]: ref for ref in one(objects, "TriggerAuthentication", "tlprobe-redis")["spec"]["secretTargetRef"]}
    assert all(ref["name"] == SECRET for ref in auth.values())
    assert auth["password"]["key"] == "redis-password"
    worker = environment(objects, one(objects, "Deployment", "tlprobe-worker")["spec"]["template"]["spec"]["containers"][0])
    for trigger in scaled["triggers"]:
        metadata = trigger["metadata"]
        if variant == "base":
            # KEDA's operator is in another namespace: the Service by its namespaced name, on its port
            service = one(objects, "Service", "tlprobe-redis")
            host, port = metadata["address"].rsplit(":", 1)
            assert host == f"{service['metadata']['name']}.{service['metadata']['namespace']}.svc"
            assert int(port) == service["spec"]["ports"][0]["port"]
            assert worker["TLPROBE_REDIS_URL"] == f"redis://:<secret:redis-password>@{service['metadata']['name']}:{port}/0"
        elif variant == "external-redis":
            assert "address" not in metadata and auth["address"]["key"] == "redis-address"
            assert auth["tls"]["key"] == "redis-tls" and worker["TLPROBE_REDIS_URL"] == "<secret:redis-url>"
        else:
            # read from the worker container's environment: the same settings the workers use
            assert "address" not in metadata
            assert metadata["addressesFromEnv"] == "TLPROBE_REDIS_SENTINELS"
            assert metadata["sentinelMasterFromEnv"] == "TLPROBE_REDIS_SENTINEL_SERVICE"
            assert auth["sentinelPassword"]["key"] == "redis-sentinel-password"
            sentinels = worker["TLPROBE_REDIS_SENTINELS"].split(",")
            assert len(sentinels) >= 3 and all(re.fullmatch(r"[a-z0-9.-]+:[0-9]+", s) for s in sentinels)
            assert worker["TLPROBE_REDIS_SENTINEL_SERVICE"] and "TLPROBE_REDIS_URL" not in worker


# --- pods ---------------------------------------------------------------------------------------------

def test_every_container_has_requests_and_limits(objects):
    for workload, container in containers(objects):
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request, limit = quantity(resources["requests"][resource]), quantity(resources["limits"][resource])
            assert 0 < request <= limit, f"{workload['metadata']['name']}: {resource} {request} > {limit}"


def test_the_api_is_ready_when_it_can_take_submissions_and_alive_when_it_answers(objects):
    api = one(objects, "Deployment", "tlprobe-api")["spec"]["template"]["spec"]
    container = api["containers"][0]
    ports = {port["name"]: port["containerPort"] for port in container["ports"]}
    command = container["command"]
    assert command[:3] == ["uvicorn", "--factory", "service.main:app"]
    assert ports["http"] == int(command[command.index("--port") + 1])
    assert (container["readinessProbe"]["httpGet"]["path"], container["readinessProbe"]["httpGet"]["port"]) == ("/readyz", "http")
    assert (container["livenessProbe"]["httpGet"]["path"], container["livenessProbe"]["httpGet"]["port"]) == ("/healthz", "http")
    # a slow Redis is answered by the API's own 503 within TLPROBE_REDIS_TIMEOUT, before the probe gives up
    assert container["readinessProbe"]["timeoutSeconds"] > float(config(objects)["TLPROBE_REDIS_TIMEOUT"])
    module, _, factory = command[2].partition(":")
    app = getattr(importlib.import_module(module), factory)()
    assert (app.url_path_for("readyz"), app.url_path_for("healthz")) == ("/readyz", "/healthz")
    service = one(objects, "Service", "tlprobe-api")["spec"]
    assert service["ports"][0]["targetPort"] == "http"
    pod_labels = one(objects, "Deployment", "tlprobe-api")["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= pod_labels.items()
    # a long poll (TLPROBE_MAX_WAIT) ends before the pod is killed
    assert api["terminationGracePeriodSeconds"] >= Settings.model_fields["max_wait"].default + 5


def hand_back_bound() -> float:
    """The bound tests/integration/test_faults.py puts on a busy worker's hand-back after SIGTERM (2.0 s measured)."""
    source = (ROOT / "tests" / "integration" / "test_faults.py").read_text()
    bounds = re.findall(r"assert handed_back < ([0-9.]+)", source)
    assert len(bounds) == 1, "test_a_stopped_worker_hands_its_job_back_at_once no longer bounds the hand-back"
    return float(bounds[0])


def test_a_stopped_worker_has_time_to_hand_its_job_back(objects):
    worker = one(objects, "Deployment", "tlprobe-worker")["spec"]["template"]["spec"]
    assert worker["containers"][0]["command"] == ["python", "-m", "worker.main"]
    assert callable(importlib.import_module("worker.main").main)
    # three times the bound: room for a loaded node before Kubernetes' SIGKILL
    assert worker["terminationGracePeriodSeconds"] >= 3 * hand_back_bound()


def test_a_worker_pods_memory_covers_the_largest_job_it_may_be_given(objects):
    container = one(objects, "Deployment", "tlprobe-worker")["spec"]["template"]["spec"]["containers"][0]
    env = environment(objects, container)
    settings = Settings(**{name[len("TLPROBE_"):].lower(): value for name, value in env.items()
                           if name.startswith("TLPROBE_")})
    assert len(layout(settings)) == 1 and settings.threads_per_worker() == 1  # one job at a time per pod
    assert layout(settings)[0] == [queue_name(settings, lane) for lane in PRIORITY]  # taking both queues
    request, limit = (quantity(container["resources"][side]["memory"]) for side in ("requests", "limits"))
    assert request >= len(layout(settings)) * settings.max_memory_bytes + WORKER_BASELINE_BYTES
    assert limit == request
    assert len(layout(settings)) * settings.threads_per_worker() <= quantity(container["resources"]["limits"]["cpu"])


def test_every_tlprobe_variable_is_a_setting(objects):
    known = environment_variables()
    for _, container in containers(objects):
        names = {name for name in environment(objects, container) if name.startswith("TLPROBE_")}
        assert names - known == set(), names - known


def test_environment_references_resolve(variant, objects):
    """No variable has both a value and a valueFrom (the API server refuses it), every $(VAR) names a
    variable defined before it, every Secret reference is to the documented Secret and keys, every
    ConfigMap and volume source is rendered."""
    configmaps = {obj["metadata"]["name"] for obj in objects if obj["kind"] == "ConfigMap"}
    keys = set()
    for workload, container in containers(objects):
        defined = set()
        for source in container.get("envFrom", []):
            assert source["configMapRef"]["name"] in configmaps
        for variable in container.get("env", []):
            assert ("value" in variable) != ("valueFrom" in variable), variable
            for reference in re.findall(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", variable.get("value", "")):
                assert reference in defined, f"{workload['metadata']['name']}: $({reference}) before it is defined"
            if "valueFrom" in variable:
                assert variable["valueFrom"]["secretKeyRef"]["name"] == SECRET
                keys.add(variable["valueFrom"]["secretKeyRef"]["key"])
            defined.add(variable["name"])
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in configmaps
    for ref in one(objects, "TriggerAuthentication", "tlprobe-redis")["spec"]["secretTargetRef"]:
        keys.add(ref["key"])
    assert keys == SECRET_KEYS[variant]
    guide = (ROOT / "docs" / "deploy.md").read_text()
    assert all(f"{key}=" in guide for key in keys), "docs/deploy.md shows how to create every key of the Secret"


def test_pods_run_unprivileged_with_a_read_only_root(objects):
    """Non-root by number (the image's user is a name, which Kubernetes cannot check), no privilege
    escalation, no capabilities, a read-only root with /tmp writable: the caches the code writes
    (numba's compiled step, matplotlib's) are pointed there."""
    for workload, container in containers(objects):
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] and pod["securityContext"]["runAsUser"] > 0
        assert pod["automountServiceAccountToken"] is False
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False and context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        if container["image"].startswith("tlprobe"):
            mounts = {mount["mountPath"] for mount in container["volumeMounts"]}
            assert "/tmp" in mounts
            for variable in ("NUMBA_CACHE_DIR", "MPLCONFIGDIR"):
                value = environment(objects, container).get(variable)
                assert value is None or value.startswith("/tmp/")
    images = {container["image"] for _, container in containers(objects) if container["name"] in ("api", "worker")}
    assert len(images) == 1 and images.pop().split(":")[0] == "tlprobe"  # one image (the Dockerfile) for both


# --- Redis --------------------------------------------------------------------------------------------

def redis_bytes(size: str) -> int:
    """A size as redis.conf writes it: 2gb is 2 x 1024^3 bytes, 2g is 2 x 10^9."""
    number, unit = re.fullmatch(r"([0-9]+)([kmg]b?|)", size.lower()).groups()
    return int(number) * {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "kb": 2**10, "mb": 2**20, "gb": 2**30}[unit]


def redis_conf(objects) -> dict[str, str]:
    text = one(objects, "ConfigMap", "tlprobe-redis-config")["data"]["redis.conf"]
    return dict(line.split(maxsplit=1) for line in text.splitlines() if line.strip() and not line.startswith("#"))


def test_redis_persists_on_a_volume_and_evicts_nothing():
    objects = render("base")
    conf = redis_conf(objects)
    assert conf["appendonly"] == "yes" and conf["appendfsync"] == "everysec"
    assert conf["maxmemory-policy"] == "noeviction"  # uploads cannot be recomputed
    redis = one(objects, "StatefulSet", "tlprobe-redis")["spec"]
    pod = redis["template"]["spec"]
    container = pod["containers"][0]
    mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
    assert mounts["data"] == conf["dir"]
    claim = next(claim for claim in redis["volumeClaimTemplates"] if claim["metadata"]["name"] == "data")
    maxmemory = redis_bytes(conf["maxmemory"])
    assert maxmemory == 2 * 2**30
    # the append-only file grows to about twice the data before Redis rewrites it
    assert quantity(claim["spec"]["resources"]["requests"]["storage"]) >= 2 * maxmemory
    config_volume = next(volume for volume in pod["volumes"] if volume["name"] == "config")
    assert config_volume["configMap"]["name"] == one(objects, "ConfigMap", "tlprobe-redis-config")["metadata"]["name"]
    assert container["args"][:2] == ["redis-server", f"{mounts['config']}/redis.conf"]
    assert container["args"][2:] == ["--requirepass", "$(REDIS_PASSWORD)"]
    # 1 GiB above maxmemory for the append-only file's rewrite (a fork) and the clients' buffers
    assert quantity(container["resources"]["limits"]["memory"]) >= maxmemory + 2**30
    service = one(objects, "Service", "tlprobe-redis")
    assert redis["serviceName"] == service["metadata"]["name"] and service["spec"]["clusterIP"] == "None"


def test_only_tlprobe_and_keda_reach_redis():
    objects = render("base")
    policy = one(objects, "NetworkPolicy", "tlprobe-redis")["spec"]
    redis_labels = one(objects, "StatefulSet", "tlprobe-redis")["spec"]["template"]["metadata"]["labels"]
    assert policy["podSelector"]["matchLabels"].items() <= redis_labels.items() and policy["policyTypes"] == ["Ingress"]
    (rule,) = policy["ingress"]
    assert [port["port"] for port in rule["ports"]] == [6379]
    pods = [peer["podSelector"]["matchLabels"] for peer in rule["from"] if "podSelector" in peer]
    for name in ("tlprobe-api", "tlprobe-worker"):
        labels = one(objects, "Deployment", name)["spec"]["template"]["metadata"]["labels"]
        assert any(selector.items() <= labels.items() for selector in pods), name
    namespaces = [peer["namespaceSelector"]["matchLabels"] for peer in rule["from"] if "namespaceSelector" in peer]
    assert namespaces == [{"kubernetes.io/metadata.name": "keda"}]


@pytest.mark.parametrize("overlay", ["external-redis", "sentinel"])
def test_overlays_leave_no_reference_to_the_base_redis(overlay):
    objects = render(overlay)
    assert not [obj for obj in objects if "tlprobe-redis" in generated_name(obj) and obj["kind"] != "TriggerAuthentication"]
    for _, container in containers(objects):
        assert "tlprobe-redis" not in str(environment(objects, container))
