"""The correlated hidden manifold model (MODEL.md section 1).

A :class:`Task` is (F, theta, sigma): latent c ~ N(0, I_D), input x = sigma(F^T c / sqrt(D)),
label y = sign(theta . c / sqrt(D)) (sign(0) = +1, a null event), flipped with probability p (the
task's ``label_noise``, MODEL.md section 8). Flips come from a generator of their own (``flips``), one
uniform u per sample and a flip where u < p: the latents and inputs do not depend on p, a larger p
flips a superset of the labels of a smaller one, and with p = 0 nothing is drawn.

The source is **nested in D**: latent coordinate i gets its teacher entry theta_i and then its row
F_i from the stream (source seed, i) alone, so the task with D coordinates is exactly the first D
coordinates of the task with more, with the same seed (and F_i's first N entries do not depend on
N either). The target is derived from the source by four knobs applied in the order latent change,
feature substitution, feature noise, teacher noise. ``latent_change`` continues the source seed's
nested sequence (dropping coordinates, or appending the next ones), so a target with D_s + dD
coordinates and all other knobs at zero *is* the source task with that D. The other three knobs
draw from their own streams of the target seed, and every draw is made whatever the knob's value, so
a target moves continuously as one knob is varied with the seed fixed (phase diagrams are then
smooth in the knob, not re-drawn at every value).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from tlprobe.contract.learning_curve import SourceParams, TargetParams

from .activations import get_activation
from .invalid_spec import InvalidSpec
from .seeding import Stream, generator

Array = np.ndarray
DEFAULT_CHUNK = 4096


@dataclass(frozen=True)
class Task:
    features: Array  # F, shape (D, N)
    teacher: Array  # theta, shape (D,)
    activation: str
    #: the seed whose nested sequence F and theta are the first D coordinates of (a source task)
    latent_seed: int | None = None
    label_noise: float = 0.0  # p: probability that a sample's label is flipped

    @property
    def latent_dim(self) -> int:
        return self.features.shape[0]

    @property
    def input_dim(self) -> int:
        return self.features.shape[1]

    def inputs(self, latents: Array) -> Array:
        act = get_activation(self.activation)
        return act.value(latents @ self.features / np.sqrt(self.latent_dim))

    def labels(self, latents: Array) -> Array:
        """The teacher's clean labels sign(theta . c)."""
        return np.where(latents @ self.teacher >= 0.0, 1.0, -1.0)

    def flip(self, labels: Array, flips: np.random.Generator) -> Array:
        """``labels`` with each flipped where a uniform draw of ``flips`` is below p (in place; drawn only
        when p > 0)."""
        if self.label_noise > 0.0:
            labels[flips.random(labels.shape[0]) < self.label_noise] *= -1.0
        return labels

    def sample(self, n: int, rng: np.random.Generator,
               flips: np.random.Generator | None = None) -> tuple[Array, Array, Array]:
        """n samples (c, x, y). Drawing n = a + b in one call equals drawing a then b (from both
        generators). ``flips``: the generator of the label flips; without it y is the teacher's clean
        label (for uses that ignore labels, or need the clean ones)."""
        latents = rng.standard_normal((n, self.latent_dim))
        labels = self.labels(latents)
        if flips is not None:
            self.flip(labels, flips)
        return latents, self.inputs(latents), labels

    def sample_chunks(self, n: int, rng: np.random.Generator, chunk_size: int = DEFAULT_CHUNK,
                      flips: np.random.Generator | None = None) -> Iterator[tuple[Array, Array, Array]]:
        """The same n samples as :meth:`sample`, in chunks of at most ``chunk_size`` (bounded memory)."""
        for start in range(0, n, chunk_size):
            yield self.sample(min(chunk_size, n - start), rng, flips)


def latent_coordinates(seed: int, start: int, stop: int, input_dim: int) -> tuple[Array, Array]:
    """Coordinates start .. stop-1 of the nested sequence of ``seed``: rows of F (stop - start, N)
    and entries of theta. Coordinate i draws theta_i, then F_i, from its own stream (seed, i)."""
    features = np.empty((stop - start, input_dim))
    teacher = np.empty(stop - start)
    for row, index in enumerate(range(start, stop)):
        rng = generator(seed, Stream.SOURCE_TASK, index)
        teacher[row] = rng.standard_normal()
        features[row] = rng.standard_normal(input_dim)
    return features, teacher


def make_source(spec: SourceParams) -> Task:
    features, teacher = latent_coordinates(spec.seed, 0, spec.latent_dim, spec.input_dim)
    return Task(features=features, teacher=teacher, activation=spec.activation.value, latent_seed=spec.seed,
                label_noise=spec.label_noise)


def make_target(source: Task, spec: TargetParams) -> Task:
    """The target task of ``spec`` (its own label noise: the source's is not inherited)."""
    d_source, n_inputs = source.features.shape
    d_target = d_source + spec.latent_change
    if d_target < 1:
        raise InvalidSpec("target.latent_change",
                          f"latent_change {spec.latent_change} would empty a latent space of dimension {d_source}")
    if spec.latent_change > 0 and source.latent_seed is None:
        raise InvalidSpec("target.latent_change", "a positive latent_change continues a source task's nested sequence")
    kept = min(d_source, d_target)

    # 1. latent change: keep the first `kept` coordinates, append the next ones of the source's sequence.
    if spec.latent_change > 0:
        new_rows, new_teacher = latent_coordinates(source.latent_seed, d_source, d_target, n_inputs)
    else:
        new_rows, new_teacher = np.empty((0, n_inputs)), np.empty(0)
    features = np.concatenate([source.features[:kept], new_rows])
    teacher = np.concatenate([source.teacher[:kept], new_teacher])

    # 2. feature substitution: a fraction of the kept rows replaced by fresh rows. The rows are
    #    taken in a seeded random order, so a larger fraction substitutes a superset of rows.
    rng = generator(spec.seed, Stream.TARGET_SUBSTITUTION)
    order = rng.permutation(kept)
    fresh = rng.standard_normal((kept, n_inputs))
    n_substituted = int(round(spec.feature_substitution * kept))
    chosen = order[:n_substituted]
    features[chosen] = fresh[chosen]

    # 3. feature noise: F_t = sqrt(1 - eps) F + sqrt(eps) G.
    noise = generator(spec.seed, Stream.TARGET_FEATURE_NOISE).standard_normal((d_target, n_inputs))
    features = np.sqrt(1.0 - spec.feature_noise) * features + np.sqrt(spec.feature_noise) * noise

    # 4. teacher noise: theta_t = sqrt(1 - delta) theta + sqrt(delta) theta'.
    rotation = generator(spec.seed, Stream.TARGET_TEACHER_NOISE).standard_normal(d_target)
    teacher = np.sqrt(1.0 - spec.teacher_noise) * teacher + np.sqrt(spec.teacher_noise) * rotation
    return Task(features=features, teacher=teacher, activation=source.activation, label_noise=spec.label_noise)
