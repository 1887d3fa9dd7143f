"""Video linkage (视频联动): a camera's live stream (HLS) and snapshot addresses, who may see them, and their checks.

The addresses point at the intranet video platform or a GB/T 28181 gateway; browsers fetch the stream from there
themselves (the server does not relay video). They are kept apart from the camera records
(:class:`mapserver.model.CameraVideo`, table ``camera_video``), so no listing, export, layer or tile of cameras can
carry them: only ``GET /api/cameras/<code>/video`` answers them, to the roles of :data:`mapserver.roles.VIDEO`.
"""
