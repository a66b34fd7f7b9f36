# Stage: classifier. Rules are added by the stage's change.
