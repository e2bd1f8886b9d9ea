/**
 * The line every CreditBot thread reply carries while no model has been trained (the default
 * CREDITS_MODEL_MIN_REQUESTS of 30): the people asking see the amount was not checked against history.
 */
export const NO_OPINION_YET =
  '\nNo second opinion on this amount yet: no model has been trained (one needs 30 answered requests).';
