# Downloads (Kaggle data set), run on the login node; rules added by the cluster change.
