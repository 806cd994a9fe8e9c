"""GCP driver (google-cloud-compute). Importing this package does not import the SDK."""
