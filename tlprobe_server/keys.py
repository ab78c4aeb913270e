"""Every Redis key tlprobe writes (beside RQ's own), built in one place for service and worker."""

PREFIX = "tlprobe"


def result(job_id: str) -> str:
    """JSON result of a finished job; its presence is what makes a submission a cache hit."""
    return f"{PREFIX}:result:{job_id}"


def submit_lock(job_id: str) -> str:
    """Held while a submission checks for and enqueues a job (expires by itself)."""
    return f"{PREFIX}:lock:submit:{job_id}"


def cancel_request(job_id: str) -> str:
    """Set by a cancel before anything else, deleted when a job of that id is enqueued anew: a work
    horse that finds it stops its job, however the cancel and the dequeue interleaved."""
    return f"{PREFIX}:cancel:{job_id}"


def artifact(key: str) -> str:
    """Hash of binary numpy arrays (trained network, feature mean, spectra)."""
    return f"{PREFIX}:artifact:{key}"


def dataset(dataset_id: str) -> str:
    """Hash of an uploaded dataset: its arrays (framed bytes, ``tlprobe_server.arrays``) and its description."""
    return f"{PREFIX}:dataset:{dataset_id}"


def datasets_index() -> str:
    """Sorted set of dataset ids by upload time (entries of expired datasets are pruned when read)."""
    return f"{PREFIX}:datasets:index"


def datasets_bytes() -> str:
    """Hash: dataset id -> bytes stored, for the total-storage bound (pruned like the index)."""
    return f"{PREFIX}:datasets:bytes"


def dataset_users(dataset_id: str) -> str:
    """Set of the ids of jobs submitted to read a dataset (ended ones are ignored when deleting)."""
    return f"{PREFIX}:dataset:users:{dataset_id}"


def dataset_lock(dataset_id: str) -> str:
    """Held while a dataset is stored, deleted, or reserved by a submission."""
    return f"{PREFIX}:lock:dataset:{dataset_id}"


def datasets_lock() -> str:
    """Held while an upload checks the total storage and stores (one upload at a time)."""
    return f"{PREFIX}:lock:datasets"


def batch(batch_id: str) -> str:
    return f"{PREFIX}:batch:{batch_id}"


def computed_counter() -> str:
    """Hash: how many artifacts of each kind were computed (not reused) by workers."""
    return f"{PREFIX}:stats:computed"


def executions_counter() -> str:
    """Hash: how many times each kind of job actually executed."""
    return f"{PREFIX}:stats:executions"


def catalogue() -> str:
    """Sorted set of phase-diagram ids by completion time."""
    return f"{PREFIX}:catalogue:phase_diagrams"


def catalogue_entry(diagram_id: str) -> str:
    """A catalogue entry (JSON summary); expires with the diagram's result."""
    return f"{PREFIX}:catalogue:entry:{diagram_id}"


def plot(job_id: str, fmt: str) -> str:
    """A rendered picture of a result (PNG or SVG bytes); expires with the result."""
    return f"{PREFIX}:plot:{job_id}:{fmt}"


def rate(token_id: str, window: int) -> str:
    """Submissions of one token in one clock minute (expires after two minutes)."""
    return f"{PREFIX}:rate:{token_id}:{window}"


def replication_marker() -> str:
    """A counter written just before a WAIT (``tlprobe_server.replication``): the write the WAIT is counted from."""
    return f"{PREFIX}:replication:marker"
