-- The fingerprint of the semantic layer last installed whole in this file (none: never, or not whole).
select fingerprint from semantic_layer
