"""The media library's refusals."""

from __future__ import annotations

from fissionmall.core.errors import ErrorCode


class MediaError(ErrorCode):
    MEDIA_NOT_IMAGE = "MEDIA_NOT_IMAGE", "文件不是图片，或图片已损坏", 422
    MEDIA_TYPE_NOT_ALLOWED = "MEDIA_TYPE_NOT_ALLOWED", "只支持 JPEG、PNG、WebP 格式的图片", 415
    MEDIA_TOO_LARGE = "MEDIA_TOO_LARGE", "图片文件太大", 413
    MEDIA_TOO_MANY_PIXELS = "MEDIA_TOO_MANY_PIXELS", "图片尺寸太大（像素过多），请缩小后再上传", 422
    MEDIA_EMPTY = "MEDIA_EMPTY", "请选择要上传的图片", 422
    MEDIA_NOT_FOUND = "MEDIA_NOT_FOUND", "图片不存在或已删除", 404
    MEDIA_REF_INVALID = "MEDIA_REF_INVALID", "商品图片只能是素材库的图片", 422
