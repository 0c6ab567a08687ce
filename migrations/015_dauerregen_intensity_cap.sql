-- DWD Dauerregen rules made from the preset before 0.3.0 summed every drop, so one cloudburst also raised
-- Dauerregen. The preset now counts rain faster than 10 mm/h only at 10 mm/h (docs/warning-logic.md,
-- "A single cloudburst and Dauerregen"); existing preset rules get the same cap. Rules written by hand keep
-- what their author wrote.
update rules
   set definition = jsonb_set(definition, '{intensityCap}', '10'::jsonb)
 where definition->>'preset' = 'dwd-dauerregen'
   and not (definition ? 'intensityCap');
