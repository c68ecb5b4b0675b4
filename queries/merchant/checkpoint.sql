-- Building a merchant's database: write it out in full before it is renamed into place.
checkpoint;
