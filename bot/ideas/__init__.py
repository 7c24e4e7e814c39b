"""Ideas given and realised together (`/ide`, `/ide_daftar`): rules and orchestration."""
