-- Building a merchant's database: done reading the analyst snapshot.
detach src;
