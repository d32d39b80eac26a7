"""Feeds: RSS 2.0 + iTunes + Podcasting 2.0 documents built with feedgen, and static publishing.

- :mod:`feeds.catalog`  which episodes may appear where (asks the consent policy), as plain data;
- :mod:`feeds.namespace` feedgen extensions for the Podcasting 2.0 namespace and RFC 5005;
- :mod:`feeds.build`    feed documents (bytes), byte-stable, paged;
- :mod:`feeds.publish`  the versioned public directory with an atomic switch;
- :mod:`feeds.radios`   partner radio stations and their hashed, revocable tokens.
"""
