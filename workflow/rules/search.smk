# Stage: search. Rules are added by the stage's change.
