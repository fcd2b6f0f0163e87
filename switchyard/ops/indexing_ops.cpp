// cat, stack, split, chunk, index_select, gather.
