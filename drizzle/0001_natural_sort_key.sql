-- statcache_natural_sort_key(text): a text key whose byte order (COLLATE "C") is natural order, so
-- that cached_experiment_versions reads v1, v2, v10. Each run of digits becomes its length without
-- leading zeros (4 digits, fixed width) followed by the digits, so a longer number sorts after a
-- shorter one and equal lengths compare digit by digit; other text is kept as it is.
-- Example: 'v10' -> 'v000210', 'v2' -> 'v00012'. Ties ('v2' vs 'v02') are broken by the name itself.
CREATE OR REPLACE FUNCTION statcache_natural_sort_key(value text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(string_agg(
    CASE WHEN r.m[1] ~ '^[0-9]+$'
      THEN lpad(length(ltrim(r.m[1], '0'))::text, 4, '0') || ltrim(r.m[1], '0')
      ELSE r.m[1]
    END, '' ORDER BY r.ord), '')
  FROM regexp_matches(value, '[0-9]+|[^0-9]+', 'g') WITH ORDINALITY AS r(m, ord)
$$;
