// DogeTraining module.
