// copy_, clone, contiguous and to: copies with dtype conversion.
