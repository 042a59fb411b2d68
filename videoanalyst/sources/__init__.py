"""Sources: video files and streams through PyAV, data-set folders (GOT-10k, VOT, MOT17), synthetic scenes."""
