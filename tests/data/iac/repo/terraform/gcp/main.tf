resource "google_storage_bucket_iam_member" "public_read" {
  bucket = "example-assets"
  role   = "roles/storage.objectViewer"
  member = "allUsers"
}

resource "google_compute_firewall" "ssh" {
  name          = "allow-ssh"
  network       = "default"
  source_ranges = ["0.0.0.0/0"]

  allow {
    protocol = "tcp"
    ports    = ["22", "443"]
  }
}

resource "google_project_iam_binding" "owners" {
  project = "example-project"
  role    = "roles/owner"
  members = [
    "user:admin@example.com",
    "allAuthenticatedUsers",
  ]
}

resource "google_compute_firewall" "legacy" {
  name    = "legacy"
  network = "default"
  # A reviewed exception: the old file share is being retired this quarter.
  # watchkeeper:ignore=WK-TF-021 legacy share, removal tracked in OPS-142
  source_ranges = ["0.0.0.0/0"]

  allow {
    protocol = "all"
  }
}

resource "google_storage_bucket_iam_member" "press_kit" {
  bucket = "example-press"
  role   = "roles/storage.objectViewer"
  member = "allUsers" # watchkeeper:ignore=WK-TF-004
}
