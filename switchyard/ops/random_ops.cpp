// rand and randn with a seedable per-thread generator.
