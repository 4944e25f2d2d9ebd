/** Danish CVR numbers: 8 digits, the last a modulus-11 check digit (weights 2,7,6,5,4,3,2,1). */
const WEIGHTS = [2, 7, 6, 5, 4, 3, 2, 1] as const;

export function isValidCvr(value: string): boolean {
  if (!/^[1-9]\d{7}$/.test(value)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(value[i]) * (WEIGHTS[i] ?? 0);
  return sum % 11 === 0;
}
