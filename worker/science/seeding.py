"""Every random draw of the engine comes from a request seed and a named stream.

``generator(seed, Stream.X, *more)`` builds an independent ``numpy.random.Generator`` from
``SeedSequence(seed, spawn_key=(X, *more))``. Streams are fixed integers: renumbering one changes
numbers and must bump ``SCIENCE_VERSION``. Which request seed feeds which stream is listed in
``docs/model.md``.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Stream(IntEnum):
    SOURCE_TASK = 1  # (source.seed, i): theta_i then F_i of latent coordinate i (the nested sequence)
    # 2 and 3 (rows and teacher entries appended by latent_change, from target.seed) were retired in
    # science version 3: appended coordinates now continue the source seed's nested sequence
    TARGET_SUBSTITUTION = 4  # target.seed: which rows are substituted, and their fresh values
    TARGET_FEATURE_NOISE = 5  # target.seed: G of feature_noise
    TARGET_TEACHER_NOISE = 6  # target.seed: theta' of teacher_noise
    NETWORK_INIT = 10  # network.seed: W, a at initialisation
    SOURCE_TRAIN_DATA = 11  # network.seed: the n_s source training samples
    SOURCE_TEST_DATA = 12  # network.seed: fresh source samples for the source test error
    MINIBATCH_ORDER = 13  # (training seed): shuffling of mini-batches
    RANDOM_FEATURES = 14  # network.seed: W_0 of the rf protocol; (network.seed, 14, j): its layer j >= 2
    LABEL_FLIPS = 15  # (seed, 15, data stream): label flips of the samples of that data stream (label_noise)
    FEATURE_MEAN = 20  # target.seed: Monte Carlo population mean of non-odd feature maps
    MC_COVARIANCE = 21  # theory.seed: Monte Carlo samples of Omega, Phi (a dataset: the order of its samples)
    SIM_TRAIN_DATA = 30  # simulation seed: target training samples (nested in n_t; a dataset: its training split's order)
    SIM_TEST_DATA = 31  # simulation seed: fresh target test samples
    SIM_NETWORK_INIT = 32  # simulation seed: random init of the scratch protocol
    CV_FOLDS = 33  # (simulation seed, alpha index): folds of the practitioner's cross-validation (every protocol)
    FINETUNE_HELD_OUT = 34  # (simulation seed, alpha index): held-out part of finetune's early stopping
    SIM_VALIDATION_DATA = 35  # simulation seed: fresh target validation samples (the best_achievable tuning rule)
    DATASET_SPLIT = 40  # source.seed / target.seed of a dataset reference: held-out and training splits
    TEACHER_FOLDS = 41  # target.seed of a dataset reference: folds of the linear teacher's out-of-sample fit error


def generator(seed: int, stream: Stream, *more: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(int(stream), *map(int, more))))
