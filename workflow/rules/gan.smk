# Stage: gan. Rules are added by the stage's change.
