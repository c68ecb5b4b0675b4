-- Detach the template world.
detach tpl;
