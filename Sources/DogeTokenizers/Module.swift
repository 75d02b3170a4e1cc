// DogeTokenizers module.
