# Stage: data. Rules are added by the stage's change.
