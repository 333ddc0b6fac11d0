"""Safe parsing and execution of function calls written by models (untrusted text)."""
