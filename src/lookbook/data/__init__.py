"""Data stage: styles.csv parsing, image validation, labels, splits and the image cache."""
