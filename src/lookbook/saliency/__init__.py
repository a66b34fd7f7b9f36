"""Guided backpropagation and Grad-CAM maps of the trained classifier, their per-class
averages, the share of saliency on the product, and the weight-randomization sanity check."""
