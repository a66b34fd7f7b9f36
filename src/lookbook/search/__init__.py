"""Visual search: an index of L2-normalized image embeddings, exact cosine top-k
queries, retrieval metrics against a raw-pixel baseline, and contact sheets."""
