-- Building a merchant's database: the published analyst snapshot it is cut from, read-only.
attach $path as src (read_only);
