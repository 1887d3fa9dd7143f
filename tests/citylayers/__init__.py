"""A package of map layers kept outside ``layers/``, as a city's own code would be, named in config by dotted path."""
