// DogeModel module.
