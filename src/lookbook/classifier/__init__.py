"""Classifier stage: torchvision models fine-tuned on the label scheme, with exact resume.

Other stages load a trained model with :func:`lookbook.classifier.models.load_trained`
and compute penultimate-layer features with :func:`lookbook.classifier.features.embed`.
"""
