"""DCGAN stage: 64x64 generation on the whole training set and on each class.

``dcgan`` contains the networks, ``train`` the training loop with checkpoints and failure
detection, ``quality`` the measures in the classifier's feature space, ``plots`` the
figures.
"""
