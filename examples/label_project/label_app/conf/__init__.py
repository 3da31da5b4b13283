"""The app's config folder, a package so Hydra finds it in the installed app (pkg://label_app.conf)."""
