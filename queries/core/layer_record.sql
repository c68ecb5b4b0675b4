-- Record that the layer with this fingerprint is installed whole.
insert or replace into semantic_layer values (1, $fingerprint, $installed_at)
