"""What `make` runs to check and build the repository: the pytest wrapper, offline Terraform (init, validate,
test), the README reference tables, the checkov summary, the secret scan and the Lambda package build."""
