// DogeJinja module.
