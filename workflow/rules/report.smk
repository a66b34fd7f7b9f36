# Stage: report. Rules are added by the stage's change.
