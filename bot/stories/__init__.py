"""Service stories for employer branding (`/cerita`): told, reviewed, consented, published."""
