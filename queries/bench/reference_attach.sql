-- Attach the template world read-only as `tpl` (bench/reference.py).
attach $path as tpl (read_only);
