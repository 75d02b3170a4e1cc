// DogeGeneration module.
