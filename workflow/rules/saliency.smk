# Stage: saliency. Rules are added by the stage's change.
