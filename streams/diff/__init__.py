"""The diff worker: joins the sources of a recon by key and emits break lifecycle events."""
