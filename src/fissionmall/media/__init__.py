"""Product media: uploads checked by content, resized, stripped of metadata, stored locally or in S3, reused."""
