provider "aws" {
  region = var.region
}

module "s3_object_notifier" {
  source = "../../modules/s3-object-notifier"

  name = var.name

  # A new bucket with the module's secure defaults. force_destroy is for this demo only: it lets
  # `terraform destroy` delete the uploaded objects (and every version of them) along with the bucket.
  bucket = {
    create = {
      name          = var.bucket_name
      force_destroy = var.force_destroy
    }
  }

  notifications = {
    objects = {
      events        = ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
      filter_prefix = var.filter_prefix
    }
  }

  sender_email = var.sender_email
  recipients   = var.recipients

  # The example creates the sender's SES email identity: SES mails a verification link to sender_email.
  ses_identity = {
    create = true
  }

  tags = var.tags
}
